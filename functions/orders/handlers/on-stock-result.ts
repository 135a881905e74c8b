import { StockRejected, StockReserved } from '../../contracts/events';
import { eventConsumer, on } from '../../shared/events/consumer';
import { logger, metrics } from '../../shared/powertools';
import { TransitionOutcome } from '../domain/order-service';
import { orders } from './dependencies';

function report(outcome: TransitionOutcome, orderId: string, event: string): void {
  if (outcome === TransitionOutcome.REFUSED) {
    logger.warn('The order state machine refused the transition; the order keeps its state', {
      orderId,
      event,
    });
    metrics.addMetric('TransitionRefused', 'Count', 1);
  }
}

/** Saga, orders side: StockReserved → confirm the order; StockRejected → reject it. */
export const handler = eventConsumer(
  on(StockReserved, async (event) => {
    report(
      await orders.confirm(event.data.orderId, event.correlationId, `EVENT#${event.id}`),
      event.data.orderId,
      event.type,
    );
  }),
  on(StockRejected, async (event) => {
    const outcome = await orders.reject(
      event.data.orderId,
      event.data.reason,
      event.correlationId,
      `EVENT#${event.id}`,
    );
    report(outcome, event.data.orderId, event.type);
  }),
);

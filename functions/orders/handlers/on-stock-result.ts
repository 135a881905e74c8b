import { StockRejected, StockReserved } from '../../contracts/events';
import { NotFoundError } from '../../shared/errors';
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

/**
 * An order is always stored before its OrderPlaced event, so a stock result for an unknown order can never
 * succeed on retry: it is logged and counted (alarm on `UnknownOrder`), not retried into the dead-letter queue.
 */
async function forKnownOrder(
  orderId: string,
  event: string,
  work: () => Promise<TransitionOutcome>,
): Promise<void> {
  try {
    report(await work(), orderId, event);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    logger.error('Stock result for an unknown order', { orderId, event });
    metrics.addMetric('UnknownOrder', 'Count', 1);
  }
}

/** Saga, orders side: StockReserved → confirm the order; StockRejected → reject it. */
export const handler = eventConsumer(
  on(StockReserved, (event) =>
    forKnownOrder(event.data.orderId, event.type, () =>
      orders.confirm(event.data.orderId, event.correlationId, `EVENT#${event.id}`),
    ),
  ),
  on(StockRejected, (event) =>
    forKnownOrder(event.data.orderId, event.type, () =>
      orders.reject(event.data.orderId, event.data.reason, event.correlationId, `EVENT#${event.id}`),
    ),
  ),
);

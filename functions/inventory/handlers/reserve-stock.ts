import { OrderPlaced } from '../../contracts/events';
import { eventConsumer, on } from '../../shared/events/consumer';
import { logger, metrics } from '../../shared/powertools';
import { inventory } from './dependencies';

/** Saga, inventory side: OrderPlaced → reserve every line (StockReserved) or none (StockRejected). */
export const handler = eventConsumer(
  on(OrderPlaced, async (event) => {
    const outcome = await inventory.reserve(
      event.data.orderId,
      event.data.lines,
      event.correlationId,
      `EVENT#${event.id}`,
    );
    logger.info('Reservation decided', { orderId: event.data.orderId, outcome: outcome.kind });
    metrics.addMetric(outcome.kind === 'RESERVED' ? 'StockReserved' : 'StockRejected', 'Count', 1);
  }),
);

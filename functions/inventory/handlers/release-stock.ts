import { OrderCancelled, OrderRejected } from '../../contracts/events';
import type { EventEnvelope } from '../../shared/events/envelope';
import { eventConsumer, on } from '../../shared/events/consumer';
import { logger, metrics } from '../../shared/powertools';
import { inventory } from './dependencies';

async function release(event: EventEnvelope<{ orderId: string }>): Promise<void> {
  const outcome = await inventory.release(event.data.orderId, event.correlationId, `EVENT#${event.id}`);
  logger.info('Reservation released', { orderId: event.data.orderId, outcome: outcome.kind });
  if (outcome.kind === 'RELEASED') metrics.addMetric('StockReleased', 'Count', 1);
}

/** Compensation: OrderRejected or OrderCancelled → give the order's reserved stock back. */
export const handler = eventConsumer(on(OrderRejected, release), on(OrderCancelled, release));

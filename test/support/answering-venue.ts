/**
 * An in-memory venue for engine tests: every order request is recorded in `sent` and
 * answered on the report queue (a place acked, a cancel canceled, nothing filled).
 */
import type {Clock} from '../../src/lib/clock/clock.js'
import type {OrderAction} from '../../src/lib/domain/orders.js'
import type {ReportQueue, Venue} from '../../src/lib/venue/types.js'

/**
 * `delayMs`: how long after the request the answer is stamped (its `ts`, `venueTs`);
 * `cancels`: whether cancels are answered; `queries`: 'throw' when none is expected.
 */
export function answeringVenue(clock: Clock, reports: ReportQueue, sent: OrderAction[], o: {delayMs?: number; cancels?: boolean; queries?: 'ignore' | 'throw'} = {}): Venue {
  const delay = o.delayMs ?? 0
  return {
    submit: (a) => {
      sent.push(a)
      const t = clock.now() + delay
      if (a.type === 'place') reports.push({type: 'ack', clientOrderId: a.clientOrderId, venueOrderId: a.clientOrderId, side: a.order.side, price: a.order.price, qty: a.order.qty, tif: a.order.tif, reduceOnly: a.order.reduceOnly, ts: t, venueTs: t})
      else if (o.cancels !== false) reports.push({type: 'canceled', clientOrderId: a.clientOrderId, filled: 0, ts: t, venueTs: t})
    },
    queryOrder: () => {
      if (o.queries === 'throw') throw new Error('no query expected')
    },
  }
}

/**
 * 4.4 reduce-only flow, the safety net after the strategy: in reduce_only and halted
 * modes only reducing orders leave the core. A reducing order is on the side opposite the
 * position, carries reduceOnly=true (so the venue itself refuses to flip the position),
 * and the reducing intents together never exceed |net| (served in layer priority).
 * The strategy prices them (toward the mid with the inventory skew); this pass only
 * removes or trims what is not reducing and reports how many it removed.
 */
import type {Steps} from '../domain/instrument.js'
import type {OrderIntent, OrderSide} from '../domain/orders.js'
import {LAYER_PRIORITY} from '../orders/reconcile.js'

export function reducingSide(net: Steps): OrderSide | null {
  return net > 0 ? 'SELL' : net < 0 ? 'BUY' : null
}

export function onlyReducing(intents: readonly OrderIntent[], net: Steps): {intents: OrderIntent[]; dropped: OrderIntent[]} {
  const side = reducingSide(net)
  const dropped: OrderIntent[] = []
  const kept = new Map<OrderIntent, OrderIntent>()
  let left = Math.abs(net)
  const ordered = [...intents].sort((a, b) => LAYER_PRIORITY[a.layer] - LAYER_PRIORITY[b.layer] || (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0))
  for (const i of ordered) {
    if (i.side !== side || left <= 0) {
      dropped.push(i)
      continue
    }
    const qty = Math.min(i.qty, left)
    left -= qty
    kept.set(i, qty === i.qty && i.reduceOnly ? i : {...i, qty, reduceOnly: true})
  }
  return {intents: intents.flatMap((i) => (kept.has(i) ? [kept.get(i)!] : [])), dropped}
}

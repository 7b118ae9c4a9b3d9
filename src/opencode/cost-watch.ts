/**
 * The running cost of a turn, from opencode serve's event stream: every model call ends with a
 * step-finish part carrying its cost (USD), so a cost ceiling can stop a turn while it runs
 * instead of after it.
 */

export interface CostWatch {
  /** Feeds one event of `GET /event`; calls `onReached` once the turn's cost reaches `limit`. */
  see(event: unknown): void
  /** The cost seen so far. */
  total(): number
}

export function watchCost(
  limit: number,
  sessionId: () => string,
  onReached: (total: number) => void
): CostWatch {
  // A part may be reported more than once as it updates: each counts once, by its id.
  const costs = new Map<string, number>()
  let total = 0
  let reached = false
  return {
    see(event) {
      const { type, properties } = (event ?? {}) as { type?: unknown; properties?: unknown }
      if (type !== 'message.part.updated') return
      const part = (properties as { part?: Record<string, unknown> } | undefined)?.part
      if (!part || part.type !== 'step-finish' || typeof part.id !== 'string') return
      if (part.sessionID !== sessionId()) return
      const cost = typeof part.cost === 'number' && Number.isFinite(part.cost) ? part.cost : 0
      costs.set(part.id, Math.max(0, cost))
      total = [...costs.values()].reduce((sum, value) => sum + value, 0)
      if (!reached && total >= limit) {
        reached = true
        onReached(total)
      }
    },
    total: () => total
  }
}

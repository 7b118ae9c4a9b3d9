import { describe, expect, it } from '@jest/globals'
import { watchCost } from '../src/opencode/cost-watch.js'

const stepFinish = (id: string, cost: unknown, sessionID = 'ses_a') => ({
  type: 'message.part.updated',
  properties: { part: { id, type: 'step-finish', sessionID, cost } }
})

describe('watchCost', () => {
  it("adds each step once, for the turn's session only, and calls once at the limit", () => {
    const reached: number[] = []
    const watch = watchCost(
      1,
      () => 'ses_a',
      (total) => reached.push(total)
    )
    watch.see(stepFinish('p1', 0.4))
    watch.see(stepFinish('p1', 0.4))
    watch.see(stepFinish('p2', 5, 'ses_other'))
    watch.see({ type: 'message.part.updated', properties: { part: { id: 'p3', type: 'text' } } })
    expect(watch.total()).toBeCloseTo(0.4)
    expect(reached).toEqual([])
    watch.see(stepFinish('p4', 0.6))
    watch.see(stepFinish('p5', 0.6))
    expect(reached).toEqual([1])
  })

  it('counts nothing for garbage costs or events', () => {
    const watch = watchCost(
      1,
      () => 'ses_a',
      () => undefined
    )
    for (const cost of ['9', -3, Number.NaN, null, Infinity])
      watch.see(stepFinish(`x${cost}`, cost))
    for (const event of [null, 'x', 7, { type: 'message.part.updated' }]) watch.see(event)
    expect(watch.total()).toBe(0)
  })
})

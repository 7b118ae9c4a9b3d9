import { describe, expect, it } from '@jest/globals'
import { runAll } from '../src/sandbox/run-all.js'

/** A command whose end the test decides. */
function pending() {
  let resolve!: () => void
  const promise = new Promise<void>((done) => (resolve = done))
  return { promise, resolve }
}

describe('runAll', () => {
  it('rejects with the first failure only once every other command has ended', async () => {
    // a grant still running when the failure's clean-up revokes would outlive the revocation
    const slow = pending()
    let settled = false
    const all = runAll([
      Promise.reject(new Error('setfacl: no such file')),
      slow.promise,
      Promise.reject(new Error('second failure'))
    ]).finally(() => (settled = true))
    await Promise.resolve()
    await new Promise((done) => setImmediate(done))
    expect(settled).toBe(false)
    slow.resolve()
    await expect(all).rejects.toThrow('setfacl: no such file')
  })

  it('resolves when every command succeeds, and with none', async () => {
    await expect(runAll([Promise.resolve('a'), Promise.resolve()])).resolves.toBeUndefined()
    await expect(runAll([])).resolves.toBeUndefined()
  })
})

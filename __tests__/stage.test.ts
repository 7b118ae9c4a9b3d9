import { describe, expect, it } from '@jest/globals'
import { failedStage, inStage } from '../src/action/stages/stage.js'

describe('inStage / failedStage', () => {
  it('passes a result through, from a promise or a function', async () => {
    expect(await inStage('reading the issue', Promise.resolve(1))).toBe(1)
    expect(await inStage('reading the issue', () => Promise.resolve(2))).toBe(2)
  })

  it('an error remembers the stage it was thrown in, and is thrown as it was', async () => {
    const error = new Error('no such issue')
    await expect(inStage('reading the issue', Promise.reject(error))).rejects.toBe(error)
    expect(failedStage(error)).toBe('reading the issue')
  })

  it('a function that throws before returning a promise is in the stage too', async () => {
    const error = new Error('sync')
    await expect(
      inStage("running the agent's turn", () => {
        throw error
      })
    ).rejects.toBe(error)
    expect(failedStage(error)).toBe("running the agent's turn")
  })

  it('nested stages: the innermost one wins', async () => {
    const error = new Error('push refused')
    await expect(
      inStage("saving the issue's session", () =>
        inStage("publishing the agent's work", Promise.reject(error))
      )
    ).rejects.toBe(error)
    expect(failedStage(error)).toBe("publishing the agent's work")
  })

  it('an error that went through a stage once keeps it when rethrown through another', async () => {
    const error = new Error('checkout failed')
    const checkingOut = inStage('checking out the branch', Promise.reject(error))
    checkingOut.catch(() => undefined)
    await expect(inStage('setting up opencode', checkingOut)).rejects.toBe(error)
    expect(failedStage(error)).toBe('checking out the branch')
  })

  it('errors of no stage, and thrown values that are not objects, have none', async () => {
    expect(failedStage(new Error('elsewhere'))).toBeUndefined()
    expect(failedStage(undefined)).toBeUndefined()
    await expect(inStage('answering on the issue', Promise.reject('a string'))).rejects.toBe(
      'a string'
    )
    expect(failedStage('a string')).toBeUndefined()
  })
})

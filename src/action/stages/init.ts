/** `command: init`: a new base session, saved for the issues that start after it. */
import * as core from '@actions/core'
import { KugetsuError } from '../../errors.js'
import { summaryTable } from '../conversation/report.js'
import { baseHash, runKeys, warnIfUnsealed, type RunContext } from './context.js'
import { openWorkspace } from './workspace.js'

export async function handleInit(context: RunContext): Promise<void> {
  warnIfUnsealed(context)
  const keys = runKeys(context)
  const workspace = await openWorkspace(context)
  try {
    const outcome = await workspace.engine.init({ force: true })
    const key = keys.keyFor(keys.baseStream(baseHash(context.inputs)))
    if (!(await workspace.cache.save(workspace.store.baseDir, key))) {
      throw new KugetsuError(
        'opencode-failed',
        'the base session could not be saved to the Actions cache'
      )
    }
    context.publish.setOutputs({
      skipped: 'false',
      'skip-reason': '',
      mode: 'init',
      'base-session-id': outcome.base.sessionId,
      'session-id': outcome.base.sessionId,
      response: outcome.result.text
    })
    core.summary.addHeading('kugetsu: created a base session', 3).addRaw(
      summaryTable([
        ['Base session', outcome.base.sessionId],
        ['Cache key', key]
      ]),
      true
    )
    await context.publish.writeSummary()
  } finally {
    await workspace.close()
  }
}

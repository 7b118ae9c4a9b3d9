/**
 * What kugetsu publishes outside the log (comments, step outputs, the job summary) carries `***`
 * for secret values, including values learnt after the publisher or client was made.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as core from '@actions/core'
import { createGitHub } from '../src/action/github/github.js'
import { redactSecrets } from '../src/action/secrets/masking.js'
import { createPublisher } from '../src/action/secrets/publish.js'
import { startGitHubApi, type GitHubApi } from './support/github-api.js'

const REPO = 'octo-org/octo-repo'
const KEY = 'sk-publish-test-key-0123456789'
const LATER = 'serve-password-learnt-later-0123'

let api: GitHubApi
const scratch = mkdtempSync(join(tmpdir(), 'kugetsu-publish-'))
const savedEnv = { ...process.env }

beforeAll(async () => {
  api = await startGitHubApi({ repos: [REPO] })
  api.state.addIssue(REPO, { number: 7, user: 'alice' })
})

afterAll(async () => {
  await api?.close()
  process.env = { ...savedEnv }
  rmSync(scratch, { recursive: true, force: true })
})

describe('createGitHub with redact', () => {
  it('sends comment bodies, created and edited, with secrets as ***', async () => {
    const secrets = [KEY]
    const github = createGitHub({
      token: api.token,
      apiUrl: api.url,
      repo: { owner: 'octo-org', repo: 'octo-repo' },
      redact: (text) => redactSecrets(text, secrets)
    })
    const posted = await github.createComment(7, `the key: ${KEY}`)
    expect(api.state.comments.get(posted.id)?.body).toBe('the key: ***')
    secrets.push(LATER)
    await github.updateComment(posted.id, `now ${LATER} and ${JSON.stringify(KEY)}`)
    expect(api.state.comments.get(posted.id)?.body).toBe('now *** and "***"')
  })
})

describe('createPublisher', () => {
  it('writes outputs and the job summary with secrets as ***', async () => {
    const output = join(scratch, 'output')
    const summary = join(scratch, 'summary')
    writeFileSync(output, '')
    writeFileSync(summary, '')
    Object.assign(process.env, { GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary })
    const secrets = [KEY]
    const publish = createPublisher(secrets)
    secrets.push(LATER)

    publish.setOutputs({ response: `key ${KEY}\nlater ${LATER}`, turns: 3 })
    const outputs = readFileSync(output, 'utf8')
    expect(outputs).toContain('key ***\nlater ***')
    expect(outputs).not.toContain(KEY)
    expect(outputs).not.toContain(LATER)

    core.summary.addHeading('Response', 4).addRaw(`\n${KEY}\n`, true)
    await publish.writeSummary()
    expect(readFileSync(summary, 'utf8')).toBe('<h4>Response</h4>\n\n***\n\n')
    expect(core.summary.isEmptyBuffer()).toBe(true)
  })
})

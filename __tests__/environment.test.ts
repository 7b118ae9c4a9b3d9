import { describe, expect, test } from '@jest/globals'
import { agentEnvironment } from '../src/action/secrets/environment.js'

const TOKEN = 'ghs_jobtoken0123456789'
const STATE_KEY = 'state-key-0123456789abcdef'

const job = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/runner',
  ANTHROPIC_API_KEY: 'sk-ant-key',
  GITHUB_REPOSITORY: 'octo-org/octo-repo',
  'INPUT_GITHUB-TOKEN': TOKEN,
  'INPUT_STATE-KEY': STATE_KEY,
  STATE_tracking: '12',
  GITHUB_TOKEN: TOKEN,
  GH_TOKEN: TOKEN,
  FORGEJO_TOKEN: TOKEN,
  GITEA_TOKEN: TOKEN,
  ACTIONS_RUNTIME_TOKEN: 'runtime-token',
  ACTIONS_RESULTS_URL: 'https://results.example/',
  ACTIONS_CACHE_URL: 'https://cache.example/',
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-token',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example/',
  GITHUB_ENV: '/runner/_temp/set_env',
  GITHUB_OUTPUT: '/runner/_temp/set_output',
  GITHUB_STATE: '/runner/_temp/save_state',
  GITHUB_PATH: '/runner/_temp/add_path',
  GITHUB_STEP_SUMMARY: '/runner/_temp/summary',
  // the workflow passed them on under names of its own
  DEPLOY_TOKEN_COPY: TOKEN,
  KUGETSU_KEY: STATE_KEY
}

describe('the agent’s environment', () => {
  test('keeps the job’s own variables and drops every credential of the runner and kugetsu', () => {
    const env = agentEnvironment(job, {}, { withheld: [TOKEN, STATE_KEY] })
    expect(env).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/runner',
      ANTHROPIC_API_KEY: 'sk-ant-key',
      GITHUB_REPOSITORY: 'octo-org/octo-repo'
    })
  })

  test('expose-github-token hands over the token as GITHUB_TOKEN and GH_TOKEN only', () => {
    const env = agentEnvironment(job, {}, { exposeToken: TOKEN, withheld: [STATE_KEY] })
    expect(env.GITHUB_TOKEN).toBe(TOKEN)
    expect(env.GH_TOKEN).toBe(TOKEN)
    expect(env.FORGEJO_TOKEN).toBeUndefined()
    expect(env.KUGETSU_KEY).toBeUndefined()
  })

  test('overrides win, and an empty withheld value withholds nothing', () => {
    const env = agentEnvironment(
      { HOME: '/home/runner', EMPTY: '' },
      { HOME: '/home/agent' },
      {
        withheld: ['']
      }
    )
    expect(env).toEqual({ HOME: '/home/agent', EMPTY: '' })
  })
})

// kugetsu in a minute, on your machine, with no account and no key.
//
// Runs the bundled action (dist/index.js) the way the Actions runner does, twice on the same
// issue: the first `/kugetsu` comment starts the issue's session and the agent writes a file, which
// kugetsu commits to the issue's branch, pushes and opens a pull request for; the second continues
// the session on that branch, reads the file and builds on it. Each run gets a fresh runner
// directory and checkout, so only the Actions cache and the branch carry the work from one run to
// the next, as on GitHub. Everything it talks to runs on 127.0.0.1:
//
// - a scripted OpenAI-compatible model server (it answers by listing what it has been told, so
//   you can see the second run remembers the first),
// - a stand-in for the Actions cache service (protocol v2, as on github.com),
// - a stand-in for the GitHub REST API (the issue, its comments, pull requests) and a real git
//   remote behind it (git http-backend),
// - the real opencode binary from node_modules, configured for the scripted model.
//
// The stand-ins are the test suite's own (__tests__/support/*.ts); they are transpiled to
// build/demo/ with the TypeScript compiler first, so plain `node` can load them.
//
// Usage: npm run demo [-- --verbose]   (--verbose also prints the action's own log)
import { existsSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { ROOT, buildStandIns } from './support-build.mjs'

const SUPPORT_OUT = join(ROOT, 'build', 'demo', 'support')
const ENTRY = join(ROOT, 'dist', 'index.js')
const OPENCODE = join(
  ROOT,
  'node_modules',
  '.bin',
  process.platform === 'win32' ? 'opencode.cmd' : 'opencode'
)
const REPO = 'octo-org/octo-repo'
const ISSUE = 1
const verbose = process.argv.includes('--verbose') || process.argv.includes('-v')

const bold = (text) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[22m` : text)
const dim = (text) => (process.stdout.isTTY ? `\x1b[2m${text}\x1b[22m` : text)
const say = (text = '') => process.stdout.write(`${text}\n`)
const indent = (text, prefix = '    ') =>
  text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n')

function fail(message) {
  process.stderr.write(`demo: ${message}\n`)
  process.exit(1)
}

/** The part of a kugetsu prompt that is the user's message (after "Message from @who:"). */
function messageOf(prompt) {
  const at = prompt.lastIndexOf('Message from @')
  if (at < 0) return prompt
  return prompt.slice(prompt.indexOf('\n', at) + 1).trim()
}

/** What the scripted agent does in each turn with opencode's tools, before it answers. */
const TOOLS = [
  [
    {
      tool: 'write',
      input: { filePath: 'VERBOSE.md', content: '# --verbose\n\nPrints each step.\n' }
    }
  ],
  [
    { tool: 'read', input: { filePath: 'VERBOSE.md' } },
    {
      tool: 'write',
      input: {
        filePath: 'VERBOSE.md',
        content: '# --verbose\n\nPrints each step.\n\nShort form: -v\n'
      }
    }
  ]
]

/**
 * The scripted model. Its first user message is always kugetsu's base prompt; every later one is a
 * message from the issue. In each turn it uses that turn's tools, then answers with what it has
 * heard on this issue so far and what the file held.
 */
function scriptedReply({ request }) {
  const [, ...turns] = request.userTexts
  if (turns.length === 0) return { type: 'text', text: 'ready' }
  const messages = request.body.messages ?? []
  const lastUser = messages.map((message) => message.role).lastIndexOf('user')
  const results = messages.slice(lastUser + 1).filter((message) => message.role === 'tool')
  const tools = TOOLS[turns.length - 1] ?? []
  if (results.length < tools.length) return { type: 'tool', ...tools[results.length] }
  const heard = turns.map((text, index) => `${index + 1}. ${JSON.stringify(messageOf(text))}`)
  const found = /Prints each step\./.test(JSON.stringify(results))
  return {
    type: 'text',
    text: [
      `Hello from the scripted model. This session has heard ${turns.length} message${turns.length === 1 ? '' : 's'} on this issue:`,
      '',
      ...heard,
      '',
      turns.length === 1
        ? 'I wrote VERBOSE.md.'
        : `VERBOSE.md was there from last time (${found ? 'it says "Prints each step."' : 'not found!'}); I added the short form.`
    ].join('\n')
  }
}

async function main() {
  if (!existsSync(ENTRY)) fail('dist/index.js is missing: run `npm run package` first')
  if (!existsSync(OPENCODE)) fail('node_modules/.bin/opencode is missing: run `npm install` first')

  const standIn = buildStandIns(SUPPORT_OUT)
  const { runAction, createJob, cleanupJobs } = await standIn('action-runner')
  const { checkoutWorkspace } = await standIn('action-e2e')
  const { startCacheServer } = await standIn('cache-server')
  const { startGitHubApi, ACTIONS_BOT } = await standIn('github-api')
  const { startModelServer } = await standIn('model-server')
  const { createOpencodeEnv } = await standIn('opencode-env')

  const model = await startModelServer(scriptedReply)
  const cache = await startCacheServer({ protocol: 'v2' })
  const github = await startGitHubApi({ cacheStore: cache.store, repos: [REPO] })
  const machine = await createOpencodeEnv({ baseURL: model.baseURL })
  const cleanup = async () => {
    await Promise.allSettled([model.close(), cache.close(), github.close(), machine.cleanup()])
    cleanupJobs()
  }

  try {
    const issue = github.state.addIssue(REPO, {
      number: ISSUE,
      title: 'Add a --verbose flag',
      body: 'The CLI should print what it does when asked to.',
      user: 'alice'
    })
    await github.git.seed(REPO, { 'README.md': '# octo-repo\n', 'cli.js': 'console.log("hi")\n' })
    // kugetsu answers people with write access to the repository (min-permission).
    for (const login of ['alice', 'bob']) github.state.setPermission(REPO, login, 'write')
    say(bold('kugetsu demo'))
    say(dim(`model ${model.baseURL} · cache ${cache.url} · GitHub API ${github.url}`))
    say()
    say(`Issue ${REPO}#${issue.number}: ${bold(issue.title)}`)
    say(indent(issue.body))

    // What opencode needs to reach the scripted model offline: the provider config (by file),
    // switches that keep it off the network, and the provider's (stand-in) key, which kugetsu's
    // key proxy then holds. On GitHub this is your opencode.json and a secret on the step.
    const opencodeEnv = Object.fromEntries(
      Object.entries(machine.env).filter(([name]) =>
        /^(OPENCODE_|SCRIPTED_KEY$|npm_config_offline$|NO_COLOR$)/.test(name)
      )
    )
    const binDir = dirname(OPENCODE)

    const turns = [
      { author: 'alice', body: '/kugetsu write down what the flag should do' },
      { author: 'bob', body: '/kugetsu add the short form to what you wrote' }
    ]
    for (const [index, turn] of turns.entries()) {
      say()
      say(bold(`── Run ${index + 1}: @${turn.author} comments`))
      say(indent(turn.body, '    > '))
      const comment = github.state.addComment(REPO, ISSUE, { body: turn.body, user: turn.author })
      const payload = {
        action: 'created',
        issue: {
          number: issue.number,
          title: issue.title,
          body: issue.body,
          html_url: `https://github.com/${REPO}/issues/${issue.number}`,
          user: { login: issue.user, type: 'User' },
          state: 'open'
        },
        comment: {
          id: comment.id,
          body: turn.body,
          html_url: `https://github.com/${REPO}/issues/${issue.number}#issuecomment-${comment.id}`,
          user: { login: turn.author, type: 'User' }
        },
        repository: {
          name: REPO.split('/')[1],
          full_name: REPO,
          owner: { login: REPO.split('/')[0] }
        },
        sender: { login: turn.author, type: 'User' }
      }
      const before = new Set(github.state.commentsOf(REPO, ISSUE).map((c) => c.id))
      const started = Date.now()
      // the workflow's actions/checkout (persist-credentials: false) of the default branch
      const job = createJob(REPO)
      await checkoutWorkspace(job, github, { repo: REPO, serverUrl: 'https://github.com' })
      const result = await runAction({
        entry: ENTRY,
        job,
        repo: REPO,
        event: { name: 'issue_comment', payload },
        inputs: { 'github-token': github.token, model: machine.model },
        apiUrl: github.url,
        runId: 7000 + index,
        env: {
          ...cache.env,
          ...opencodeEnv,
          PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}`
        },
        timeoutMs: 300_000
      })
      if (verbose || result.exitCode !== 0) {
        say(dim('    action log:'))
        // What the runner shows: no debug lines (RUNNER_DEBUG is off) and no mask commands.
        const log = `${result.stdout}${result.stderr}`
          .split('\n')
          .filter((line) => !/^::(debug|add-mask)::/.test(line))
          .join('\n')
        say(dim(indent(log.trimEnd(), '    | ')))
      }
      if (result.outputs.skipped === 'true') {
        throw new Error(`run ${index + 1} was skipped: ${result.outputs['skip-reason']}`)
      }
      if (result.exitCode !== 0) {
        throw new Error(
          `run ${index + 1} failed (exit code ${result.exitCode}${result.timedOut ? ', timed out' : ''})`
        )
      }
      say(
        dim(
          `    (the action ran for ${((Date.now() - started) / 1000).toFixed(1)} s in a fresh runner directory)`
        )
      )

      const posted = github.state
        .commentsOf(REPO, ISSUE)
        .filter((c) => !before.has(c.id) && c.user === ACTIONS_BOT.login)
      for (const reply of posted) {
        say()
        say(`  @${reply.user} replied:`)
        say(indent(reply.body))
      }
      say()
      say('  step outputs:')
      const shown = [
        'mode',
        'issue-ref',
        'session-id',
        'base-session-id',
        'state-restored',
        'tokens-input',
        'tokens-output',
        'cost',
        'comment-url',
        'branch',
        'commit',
        'pull-request-url'
      ]
      for (const name of shown) say(`    ${name.padEnd(16)} ${result.outputs[name] ?? ''}`)
      say()
      say(`  kugetsu/issue-${ISSUE} now:`)
      for (const commit of await github.git.log(REPO, `kugetsu/issue-${ISSUE}`)) {
        const subject = commit.message.split('\n')[0]
        say(`    ${commit.sha.slice(0, 7)} ${subject} ${dim(`(${commit.authorName})`)}`)
      }
      say()
      say('  Actions cache entries now:')
      for (const entry of cache.store.committed)
        say(`    ${entry.key}  ${dim(`${entry.size} bytes`)}`)
    }
    say()
    say(
      bold('Done.') +
        " Run 2 began on an empty runner, restored the issue's session from the cache and checked out" +
        " the issue's branch: the model still knew run 1's message, found the file it wrote and built" +
        ' on it, in the same pull request.'
    )
    if (!verbose) say(dim('(npm run demo -- --verbose also prints the action’s own log)'))
  } finally {
    await cleanup()
  }
}

main().catch((error) => fail(error instanceof Error ? error.message : String(error)))

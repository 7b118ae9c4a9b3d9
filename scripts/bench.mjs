// How fast is kugetsu, and where does the time go? Prints figures; asserts nothing.
//
// Everything runs on this machine against the test suite's stand-ins (__tests__/support/*.ts,
// transpiled by support-build.mjs): a scripted OpenAI-compatible model that answers at once, the
// Actions cache service (v2) and the GitHub REST API, with the real opencode binary of
// node_modules. So the figures are kugetsu's and opencode's own overhead, with no model time.
// The provider key is passed to the action as a workflow passes a secret (SCRIPTED_KEY on the
// step), so every action run goes through the key proxy, as on GitHub; runs are contained
// (`sandbox: user`, the default) unless a section says otherwise.
//
// 1. a whole `continue` run of the bundled action (dist/index.js, launched like the runner does),
//    with one `opencode serve` (the default) and with one opencode per command
//    (`opencode-serve: false`), against a bare `opencode run --session ID` of the same message,
//    alternating; and the first run of an issue both ways;
// 2. a `continue` run with 1 and with N other tracked issues in the Actions cache;
// 3. a cold and a warm install of opencode by the action (not on PATH: installed from npm and
//    saved to the cache, then restored from it) -- downloads ~180 MB, skip with --skip-install;
// 4. time from the start of dist/index.js to its first opencode start (an opencode shim on PATH
//    logs every start), opencode starts per run, and the bundle sizes of dist/;
// 5. `opencode serve`: start to ready, a prompt over HTTP and `opencode run --attach` against
//    `opencode run`, whether CLI export/import work next to it; and, growing one session over HTTP, the size of the session
//    export kugetsu caches per issue after each of --turns turns;
// 6. what containment costs a turn: a `continue` run with `sandbox: user` and `sandbox: off`, each
//    with the key proxy (SCRIPTED_KEY given) and without it (no key), against the bare
//    `opencode run --session` of item 1, alternating;
// 7. where containment's time goes, on workspaces of --files files (one dir per 10 files): the
//    sandbox's own modules (src/sandbox, transpiled) set up and release an agent user, every
//    privileged command timed (useradd, setfacl on the workspace and on ancestors, kill, chown,
//    setfacl -x, userdel); what `sudo -n` would add to each; the key proxy's start; and the tar
//    guard against plain tar on the issue's cache entry and on an opencode-sized archive. Needs
//    root or passwordless sudo on Linux (it makes and removes real users). With --against REF,
//    the set-up and release of REF's src/sandbox alternate with this checkout's, for a
//    before/after on the same machine load.
// 8. what the work product costs a turn, on a repository of --files files (the first figure): a
//    `continue` run that commits and pushes one changed file (push: true, the default) against one
//    that changes the same file read-only (push: false), alternating; and the time the action
//    itself logs for git (checking the issue's branch out before the turn, committing and pushing
//    after it).
// 9. runner conditions (bench-runner.mjs): a `continue` run with a fresh home and nothing of the
//    test machine's offline set-up (every registry on a recording loopback stand-in), and the same
//    with the checkout at a new path each run, against a warm bare `opencode run --session`,
//    alternating: both ratios, what was fetched, and where the time goes; and against a bare run
//    given the models catalogue kugetsu gives opencode (kugetsu's own share). With --against REF,
//    REF's dist/ runs the same conditions.
// 10. what opencode's snapshots cost a new data dir (bench-snapshots.mjs): plain `opencode run`
//    in a git checkout of the largest --files files, snapshots on and off, alternating.
//
// Usage: npm run bench [-- --reps 3] [--issues 200] [--turns 1,10,50] [--skip-install]
//        [--files 2000,20000] [--against REF] [--only 1,2,3,4,5,6,7,8,9,10] [--verbose]
/* global fetch */
import { spawn } from 'node:child_process'
import { mkdirSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { delimiter, join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { performance } from 'node:perf_hooks'
import { runnerConditionFigures } from './bench-runner.mjs'
import { snapshotFigures } from './bench-snapshots.mjs'
import { ROOT, buildSources, buildStandIns } from './support-build.mjs'

const { values: flags } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    issues: { type: 'string', default: '200' },
    turns: { type: 'string', default: '1,10,50' },
    'skip-install': { type: 'boolean', default: false },
    files: { type: 'string', default: '2000,20000' },
    against: { type: 'string' },
    only: { type: 'string', default: '1,2,3,4,5,6,7,8,9,10' },
    verbose: { type: 'boolean', short: 'v', default: false }
  }
})
const REPS = Math.max(1, Number.parseInt(flags.reps, 10) || 3)
const OTHER_ISSUES = Math.max(1, Number.parseInt(flags.issues, 10) || 200)
const SECTIONS = new Set(flags.only.split(',').map((section) => section.trim()))
const TURNS = [...new Set(flags.turns.split(',').map((t) => Number.parseInt(t, 10)))]
  .filter((t) => t > 0)
  .sort((a, b) => a - b)
const FILES = [...new Set(flags.files.split(',').map((n) => Number.parseInt(n, 10)))]
  .filter((n) => n > 0)
  .sort((a, b) => a - b)

const REPO = 'octo-org/octo-repo'
const PREFIX = 'kugetsu-v1'
const ISSUE = 1
const PER_COMMAND = { 'opencode-serve': 'false' }
const OPENCODE_VERSION = '1.18.33'
const BIN_DIR = join(ROOT, 'node_modules', '.bin')
const OPENCODE = join(BIN_DIR, 'opencode')
// Two levels below the root: action-runner.ts finds the repository two directories up.
const standIn = buildStandIns(join(ROOT, 'build', 'bench'))

const log = (line) => process.stderr.write(`bench: ${line}\n`)
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`
const millis = (ms) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
const signed = (ms) => `${ms < 0 ? '-' : '+'}${seconds(Math.abs(ms))}`
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
const mib = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const ratio = (a, b) => `${(a / b).toFixed(2)}x`
const all = (values, format = seconds) => values.map(format).join(', ')

/** Rows of the final table: [section, measure, value]. */
const rows = []
const row = (section, measure, value) => {
  rows.push([section, measure, value])
  if (flags.verbose) log(`${section} ${measure}: ${value}`)
}

/** Runs one section; a failure becomes a row of the table instead of ending the bench. */
async function guarded(section, fn) {
  if (!SECTIONS.has(section)) return
  try {
    await fn()
  } catch (error) {
    row(section, 'FAILED', String(error instanceof Error ? error.message : error).split('\n')[0])
    log(`section ${section} failed: ${error instanceof Error ? error.stack : error}`)
  }
}

/** Runs a command without blocking the loop (the stand-ins live in this process). */
function exec(command, args, { cwd, env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve) => {
    const started = Date.now()
    const child = spawn(command, args, {
      cwd,
      env: cwd ? { ...env, PWD: cwd } : env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr: String(error), ms: Date.now() - started })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, ms: Date.now() - started })
    })
  })
}

/** PATH without any directory holding an `opencode`. */
function pathWithoutOpencode() {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !readdirSafe(dir).includes('opencode'))
    .join(delimiter)
}

function readdirSafe(dir) {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

async function main() {
  const { createKugetsuWorld, createOpencodeShim, issueCommentEvent } = await standIn('action-e2e')
  const { cleanupJobs } = await standIn('action-runner')
  const { startModelServer } = await standIn('model-server')
  const { createOpencodeEnv, SCRIPTED_KEY, SCRIPTED_KEY_ENV } = await standIn('opencode-env')

  // Other work on the machine skews every figure: the load average is printed with them.
  row('env', 'load average (1 min) at the start', loadavg()[0].toFixed(2))
  const scratch = await mkdtemp(join(tmpdir(), 'kugetsu-bench-'))
  const model = await startModelServer()
  const machine = await createOpencodeEnv({ baseURL: model.baseURL, parentDir: scratch })
  const shim = await createOpencodeShim(scratch)
  // What opencode needs to reach the scripted model offline, and the provider key as a workflow
  // passes it (as in the e2e suite): the action's key proxy holds it.
  const opencodeEnv = Object.fromEntries(
    Object.entries(machine.env).filter(
      ([name, value]) =>
        /^(OPENCODE_|SCRIPTED_KEY$|npm_config_offline$|NO_COLOR$)/.test(name) && value !== undefined
    )
  )
  const world = await createKugetsuWorld({
    protocol: 'v2',
    serverUrl: 'https://github.com',
    repo: REPO,
    model,
    shim,
    env: opencodeEnv,
    scratch,
    firstRunId: 9000
  })
  const cleanup = async () => {
    await Promise.allSettled([world.close(), model.close()])
    cleanupJobs()
    await rm(scratch, { recursive: true, force: true })
  }

  try {
    const issue = world.github.state.addIssue(REPO, {
      number: ISSUE,
      title: 'Performance',
      body: 'How long does a turn take?',
      user: 'alice'
    })
    // kugetsu answers people with write access only.
    world.github.state.setPermission(REPO, 'alice', 'write')
    let comments = 0
    /** One run of the action on the issue. `shimmed`: the logging shim first on PATH. */
    const turn = async ({
      shimmed = false,
      env = {},
      timeoutMs = 300_000,
      inputs = {},
      on = issue,
      isolate = false,
      entry
    } = {}) => {
      const body = `/kugetsu turn ${++comments}: how long does this take?`
      const comment = world.github.state.addComment(REPO, on.number, { body, user: 'alice' })
      const run = await world.run({
        event: issueCommentEvent(world.context, on, comment),
        inputs: { model: machine.model, ...inputs },
        env: {
          ...(shimmed ? {} : { PATH: [BIN_DIR, process.env.PATH].filter(Boolean).join(delimiter) }),
          ...env
        },
        timeoutMs,
        isolate,
        entry
      })
      if (run.outputs.skipped === 'true') {
        throw new Error(`action run ${run.runId} was skipped: ${run.outputs['skip-reason']}`)
      }
      if (run.result.exitCode !== 0) {
        const output = `${run.result.stdout}${run.result.stderr}`.trim().split('\n').slice(-15)
        throw new Error(`action run ${run.runId} failed:\n${output.join('\n')}`)
      }
      return run
    }

    // ---- warm-up: the issue's first turn (base session + fork), as in production
    log('first turn on the issue (creates the base session and forks it)')
    const start = await turn({ shimmed: true })
    row(
      'setup',
      'first run of an issue (new base + fork), opencode serve',
      seconds(start.result.durationMs)
    )
    const perCommandIssue = world.github.state.addIssue(REPO, {
      number: ISSUE + 1,
      title: 'Performance, one opencode per command',
      body: 'How long does a turn take?',
      user: 'alice'
    })
    const perCommandStart = await turn({ shimmed: true, inputs: PER_COMMAND, on: perCommandIssue })
    row(
      'setup',
      'first run of an issue (base restored + fork), one opencode per command',
      seconds(perCommandStart.result.durationMs)
    )
    const serveSecond = await turn({
      shimmed: true,
      on: world.github.state.addIssue(REPO, {
        number: ISSUE + 2,
        title: 'Performance, second issue',
        body: 'How long does a turn take?',
        user: 'alice'
      })
    })
    row(
      'setup',
      'first run of an issue (base restored + fork), opencode serve',
      seconds(serveSecond.result.durationMs)
    )

    // The reference: a bare `opencode run --session ID` of the same message, in a project of its
    // own, with the key in its environment as a plain workflow step would have it.
    let bareSession
    // `env`: settings added to the timed run's (the first one only makes the session)
    const bareTurn = async (env = {}) => {
      const project = await machine.makeProject('bare')
      const opencodeArgs = (message, sessionId) => [
        'run',
        '--format',
        'json',
        ...(sessionId ? [`--session=${sessionId}`] : []),
        '--',
        ...message.split(' ')
      ]
      if (!bareSession) {
        const first = await exec(OPENCODE, opencodeArgs('hello'), {
          cwd: project,
          env: machine.env
        })
        bareSession = /"sessionID":"([^"]+)"/.exec(first.stdout)?.[1]
        if (!bareSession) throw new Error(`opencode run printed no session id: ${first.stderr}`)
      }
      const message = `turn ${comments}: how long does this take?`
      const result = await exec(OPENCODE, opencodeArgs(message, bareSession), {
        cwd: project,
        env: { ...machine.env, ...env }
      })
      if (result.code !== 0) throw new Error(`bare opencode run failed: ${result.stderr}`)
      return result.ms
    }

    const action = []
    const perCommand = []
    const bare = []
    // ---- 1. continue run vs bare opencode run
    await guarded('1', async () => {
      for (let rep = 1; rep <= REPS; rep++) {
        log(`1. continue vs bare opencode run, repetition ${rep}/${REPS}`)
        action.push((await turn()).result.durationMs)
        perCommand.push((await turn({ inputs: PER_COMMAND })).result.durationMs)
        bare.push(await bareTurn())
      }
      const ratios = action.map((ms, i) => ms / bare[i])
      row(
        '1',
        `action continue run (opencode serve), median of ${REPS}`,
        `${seconds(median(action))}  (${all(action)})`
      )
      row(
        '1',
        `action continue run (one opencode per command), median of ${REPS}`,
        `${seconds(median(perCommand))}  (${all(perCommand)})`
      )
      row(
        '1',
        `bare opencode run --session, median of ${REPS}`,
        `${seconds(median(bare))}  (${all(bare)})`
      )
      row(
        '1',
        'action (opencode serve) / bare, median of per-repetition ratios',
        `${median(ratios).toFixed(2)}x`
      )
      row(
        '1',
        'action (one opencode per command) / bare, median of per-repetition ratios',
        `${median(perCommand.map((ms, i) => ms / bare[i])).toFixed(2)}x`
      )
    })
    // ---- 2. 1 vs N other tracked issues in the cache
    await guarded('2', async () => {
      const own = world.cache.store.committed
        .filter((entry) => entry.key.startsWith(`${PREFIX}-issue-${ISSUE}-`))
        .at(-1)
      const seeded = []
      const setOthers = (count) => {
        while (seeded.length > count) world.cache.store.delete(seeded.pop())
        while (seeded.length < count) {
          const n = 1000 + seeded.length
          seeded.push(
            world.cache.store.seed({
              key: `${PREFIX}-issue-${n}-8000-1-t3-ses_other${n}`,
              version: own.version,
              archive: own.archive
            }).id
          )
        }
      }
      const few = []
      const many = []
      for (let rep = 1; rep <= REPS; rep++) {
        log(`2. continue with 1 vs ${OTHER_ISSUES} other tracked issues, repetition ${rep}/${REPS}`)
        setOthers(1)
        few.push((await turn()).result.durationMs)
        setOthers(OTHER_ISSUES)
        many.push((await turn()).result.durationMs)
      }
      setOthers(0)
      row('2', 'continue, 1 other tracked issue, median', `${seconds(median(few))}  (${all(few)})`)
      row(
        '2',
        `continue, ${OTHER_ISSUES} other tracked issues, median`,
        `${seconds(median(many))}  (${all(many)})`
      )
      row(
        '2',
        `${OTHER_ISSUES} / 1, median of per-repetition ratios`,
        `${median(many.map((ms, i) => ms / few[i])).toFixed(2)}x`
      )
    })
    // ---- 3. cold vs warm install of opencode
    await guarded('3', async () => {
      if (flags['skip-install']) {
        row('3', 'cold / warm install', 'skipped (--skip-install)')
      } else {
        // npm must reach the registry: not offline, and trusting what this machine trusts (the
        // runner's environment is rebuilt from scratch, so the CA settings are passed on).
        const env = {
          PATH: pathWithoutOpencode(),
          npm_config_offline: undefined,
          NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS,
          SSL_CERT_FILE: process.env.SSL_CERT_FILE
        }
        const reachable = await exec(
          'npm',
          ['view', `opencode-ai@${OPENCODE_VERSION}`, 'version'],
          {
            env: { ...process.env, npm_config_offline: undefined },
            timeoutMs: 30_000
          }
        )
        if (reachable.code !== 0 || !reachable.stdout.includes(OPENCODE_VERSION)) {
          row('3', 'cold / warm install', 'skipped: the npm registry is unreachable')
          log(`npm view failed: ${reachable.stderr.trim().split('\n').at(-1)}`)
        } else {
          log('3. cold install: opencode not on PATH, nothing in the cache (downloads from npm)')
          const cold = await turn({ shimmed: true, env, timeoutMs: 1_200_000 })
          const tool = cold.saved.find((entry) => entry.key.startsWith('kugetsu-opencode-'))
          log('3. warm install: restored from the cache stand-in')
          const warm = await turn({ shimmed: true, env, timeoutMs: 1_200_000 })
          row('3', 'continue with cold install (npm + cache save)', seconds(cold.result.durationMs))
          row('3', 'continue with warm install (cache restore)', seconds(warm.result.durationMs))
          row('3', 'continue with opencode on PATH (item 1)', seconds(median(action)))
          row(
            '3',
            'opencode cache entry',
            tool ? `${mib(tool.size)} (${tool.compression})` : 'not saved'
          )
        }
      }
    })
    // ---- 4. time to the first opencode start, starts per run, bundle sizes
    await guarded('4', async () => {
      log('4. a continue run with the logging shim first on PATH')
      const shimmed = await turn({ shimmed: true })
      const starts = shimmed.opencode
      const firstWork = starts.find((s) => s.command !== '--version')
      row(
        '4',
        'dist/index.js start -> first opencode start',
        starts[0] ? `${seconds(starts[0].at - shimmed.startedAt)} (${starts[0].command})` : 'none'
      )
      row(
        '4',
        'dist/index.js start -> first opencode start after the version probe',
        firstWork ? `${seconds(firstWork.at - shimmed.startedAt)} (${firstWork.command})` : 'none'
      )
      row(
        '4',
        'opencode starts in a continue run (shim on PATH)',
        `${starts.length}: ${starts.map((s) => `${s.command}${s.session ? '+session' : ''}${s.fork ? '+fork' : ''}`).join(', ')}`
      )
      row(
        '4',
        'opencode starts in the first run of an issue',
        `${start.opencode.length}: ${start.opencode.map((s) => s.command).join(', ')}`
      )
      const gaps = starts.slice(1).map((s, i) => `${s.command} +${seconds(s.at - starts[i].at)}`)
      row('4', 'gaps between starts', gaps.join(', ') || '-')
      // As when opencode comes from the tool dir or the cache: known by its package.json, no probe
      const given = await turn({
        shimmed: true,
        env: { KUGETSU_OPENCODE_BIN: join(shim.dir, 'opencode') }
      })
      const [firstGiven] = given.opencode
      row(
        '4',
        'dist/index.js start -> first opencode start, binary known without a probe',
        firstGiven ? `${seconds(firstGiven.at - given.startedAt)} (${firstGiven.command})` : 'none'
      )
      let distTotal = 0
      const distFiles = []
      const walk = (dir) => {
        for (const name of readdirSync(dir)) {
          const file = join(dir, name)
          const stat = statSync(file)
          if (stat.isDirectory()) walk(file)
          else if (name.endsWith('.js')) {
            distTotal += stat.size
            distFiles.push(`${relative(join(ROOT, 'dist'), file)} ${kib(stat.size)}`)
          }
        }
      }
      walk(join(ROOT, 'dist'))
      row('4', 'dist/*.js bundle sizes', `${kib(distTotal)} in all: ${distFiles.join(', ')}`)
    })
    // ---- 5. opencode serve, and state size per turn
    await guarded('5', async () => {
      await serveFigures({ machine, bare, action })
      // The same measure on the action's own entries, for the turn counts it reached.
      for (const entry of world.cache.store.committed) {
        const turns = Number(/^kugetsu-v1-issue-1-.*-t(\d+)-/.exec(entry.key)?.[1])
        if (TURNS.includes(turns)) {
          row(
            '5',
            `issue cache archive in the stand-in after ${turns} turn(s) (action)`,
            `${kib(entry.size)} (${entry.compression})`
          )
        }
      }
    })
    // ---- 6. containment per turn: sandbox user vs off, with and without the key proxy
    await guarded('6', async () => {
      const noKey = { [SCRIPTED_KEY_ENV]: undefined }
      const variants = [
        { id: 'user+proxy', label: 'sandbox: user, key proxy', inputs: {}, env: {} },
        { id: 'off+proxy', label: 'sandbox: off, key proxy', inputs: { sandbox: 'off' }, env: {} },
        { id: 'user', label: 'sandbox: user, no key (no proxy)', inputs: {}, env: noKey },
        {
          id: 'off',
          label: 'sandbox: off, no key (no proxy)',
          inputs: { sandbox: 'off' },
          env: noKey
        }
      ]
      const times = Object.fromEntries(variants.map((v) => [v.id, []]))
      const bareTimes = []
      for (let rep = 1; rep <= REPS; rep++) {
        log(`6. sandbox user / off, with / without the key proxy, repetition ${rep}/${REPS}`)
        // rotated each repetition, so no variant always follows the same one
        const order = variants.map((_, i) => variants[(i + rep - 1) % variants.length])
        for (const variant of order) {
          const run = await turn({ inputs: variant.inputs, env: variant.env })
          // The run is what its label says: the proxy masks the key it holds (and the model gets
          // it from the proxy); `sandbox: off` warns in the log.
          const proxied = run.result.masks.includes(SCRIPTED_KEY)
          const contained = !`${run.result.stdout}${run.result.stderr}`.includes('sandbox: off:')
          if (proxied !== variant.id.endsWith('+proxy')) {
            throw new Error(`${variant.label}: the key proxy ${proxied ? 'ran' : 'did not run'}`)
          }
          if (contained !== variant.id.startsWith('user')) {
            throw new Error(`${variant.label}: the agent ran ${contained ? '' : 'un'}contained`)
          }
          times[variant.id].push(run.result.durationMs)
        }
        bareTimes.push(await bareTurn())
      }
      for (const variant of variants) {
        row(
          '6',
          `continue, ${variant.label}, median of ${REPS}`,
          `${seconds(median(times[variant.id]))}  (${all(times[variant.id])})`
        )
      }
      row(
        '6',
        `bare opencode run --session, median of ${REPS}`,
        `${seconds(median(bareTimes))}  (${all(bareTimes)})`
      )
      const added = (a, b) => {
        const diffs = times[a].map((ms, i) => ms - times[b][i])
        return `${signed(median(diffs))} median of per-repetition differences (${diffs.map(signed).join(', ')}); medians ${signed(median(times[a]) - median(times[b]))}`
      }
      row(
        '6',
        'containment adds per turn (user - off), key proxy',
        added('user+proxy', 'off+proxy')
      )
      row('6', 'containment adds per turn (user - off), no proxy', added('user', 'off'))
      row('6', 'key proxy adds per turn (proxy - none), sandbox: user', added('user+proxy', 'user'))
      row('6', 'key proxy adds per turn (proxy - none), sandbox: off', added('off+proxy', 'off'))
      for (const variant of variants) {
        row(
          '6',
          `${variant.label} / bare, median of per-repetition ratios`,
          `${median(times[variant.id].map((ms, i) => ms / bareTimes[i])).toFixed(2)}x`
        )
      }
    })
    // ---- 7. where containment's time goes
    await guarded('7', async () => {
      const own = world.cache.store.committed
        .filter((entry) => entry.key.startsWith(`${PREFIX}-issue-${ISSUE}-`))
        .at(-1)
      await containmentPieces({
        scratch,
        machine,
        entry: own,
        keys: { [SCRIPTED_KEY_ENV]: SCRIPTED_KEY }
      })
    })
    // ---- 8. the work product: checkout before the turn, commit and push after it
    await guarded('8', () =>
      workProductFigures({
        scratch,
        model,
        shim,
        opencodeEnv,
        machine,
        createKugetsuWorld,
        issueCommentEvent
      })
    )
    // ---- 9. runner conditions: fresh home, new checkout path, nothing fetched
    await guarded('9', () =>
      runnerConditionFigures({
        root: ROOT,
        against: flags.against,
        reps: REPS,
        turn,
        bareTurn,
        model,
        standIn,
        row,
        log,
        format: { seconds, median, all, signed }
      })
    )
    // ---- 10. opencode's snapshots on a new data dir (kugetsu turns them off)
    await guarded('10', () =>
      snapshotFigures({
        scratch,
        machine,
        opencode: OPENCODE,
        reps: REPS,
        files: FILES.at(-1),
        row,
        log,
        format: { seconds, median, all, signed }
      })
    )
  } finally {
    await cleanup()
  }

  row(
    'env',
    'load average (1 min) at the end; cores',
    `${loadavg()[0].toFixed(2)}; ${cpus().length}`
  )
  const width = Math.max(...rows.map(([, measure]) => measure.length))
  let section = ''
  process.stdout.write(
    `\nkugetsu bench (opencode ${OPENCODE_VERSION}, node ${process.version}, reps ${REPS})\n`
  )
  for (const [group, measure, value] of rows) {
    if (group !== section) {
      section = group
      process.stdout.write('\n')
    }
    process.stdout.write(`${group.padEnd(6)} ${measure.padEnd(width)}  ${value}\n`)
  }
}

/** Section 8: a turn that pushes its change against one that does not, and the git time logged. */
async function workProductFigures({
  scratch,
  model,
  shim,
  opencodeEnv,
  machine,
  createKugetsuWorld,
  issueCommentEvent
}) {
  const count = FILES[0] ?? 2000
  const files = { 'README.md': '# bench\n' }
  for (let i = 0; i < count; i++) files[`src/d${Math.floor(i / 10)}/f${i}.txt`] = `file ${i}\n`
  const world = await createKugetsuWorld({
    protocol: 'v2',
    serverUrl: 'https://github.com',
    repo: REPO,
    model,
    shim,
    env: opencodeEnv,
    scratch: join(scratch, 'work'),
    firstRunId: 19000,
    git: { files }
  })
  let edits = 0
  model.setScript(({ request }) => {
    const last = request.userTexts.at(-1) ?? ''
    const edit = /EDIT (\d+)/.exec(last)?.[1]
    if (!edit || request.toolResults.length > 0) return undefined
    return {
      type: 'tool',
      tool: 'write',
      input: { filePath: 'CHANGES.md', content: `edit ${edit}\n` }
    }
  })
  try {
    world.github.state.setPermission(REPO, 'alice', 'write')
    const issue = world.github.state.addIssue(REPO, { number: 5, title: 'Work', user: 'alice' })
    const turn = async (inputs) => {
      const body = `/kugetsu EDIT ${++edits}`
      const comment = world.github.state.addComment(REPO, issue.number, { body, user: 'alice' })
      const run = await world.run({
        event: issueCommentEvent(world.context, issue, comment),
        inputs: { model: machine.model, ...inputs },
        env: { PATH: [BIN_DIR, process.env.PATH].filter(Boolean).join(delimiter) },
        timeoutMs: 300_000
      })
      if (run.result.exitCode !== 0) {
        const output = `${run.result.stdout}${run.result.stderr}`.trim().split('\n').slice(-15)
        throw new Error(`action run ${run.runId} failed:\n${output.join('\n')}`)
      }
      const logged = (what) =>
        Number(new RegExp(`git: ${what}.* in ([0-9.]+) s`).exec(run.result.stdout)?.[1] ?? NaN) *
        1000
      return {
        ms: run.result.durationMs,
        checkout: logged('checked out'),
        publish: logged('(?:pushed|nothing)')
      }
    }
    log(`8. work product on ${count} files: first turn (creates the branch and the pull request)`)
    const first = await turn({})
    row(
      '8',
      `first turn with push (${count} files): checkout / commit+push`,
      `${seconds(first.checkout)} / ${seconds(first.publish)}`
    )
    const pushed = []
    const readOnly = []
    for (let rep = 1; rep <= REPS; rep++) {
      log(`8. push: true / false, repetition ${rep}/${REPS}`)
      const order = rep % 2 ? ['push', 'read-only'] : ['read-only', 'push']
      for (const variant of order) {
        if (variant === 'push') pushed.push(await turn({}))
        else readOnly.push(await turn({ push: 'false' }))
      }
    }
    const ms = (runs, key) => runs.map((run) => run[key])
    row(
      '8',
      `continue, push: true, median of ${REPS}`,
      `${seconds(median(ms(pushed, 'ms')))}  (${all(ms(pushed, 'ms'))})`
    )
    row(
      '8',
      `continue, push: false, median of ${REPS}`,
      `${seconds(median(ms(readOnly, 'ms')))}  (${all(ms(readOnly, 'ms'))})`
    )
    const diffs = pushed.map((run, i) => run.ms - readOnly[i].ms)
    row(
      '8',
      'the work product adds per turn (push - read-only)',
      `${signed(median(diffs))} median (${diffs.map(signed).join(', ')})`
    )
    row(
      '8',
      `git: checkout of the branch, median of ${REPS}`,
      `${seconds(median(ms(pushed, 'checkout')))}  (${all(ms(pushed, 'checkout'))})`
    )
    row(
      '8',
      `git: commit + push of one file, median of ${REPS}`,
      `${seconds(median(ms(pushed, 'publish')))}  (${all(ms(pushed, 'publish'))})`
    )
  } finally {
    model.setScript(undefined)
    await world.close()
  }
}

/** Section 5: `opencode serve` against `opencode run`, and the size of a session's export. */
async function serveFigures({ machine, bare }) {
  const project = await machine.makeProject('serve')
  const env = { ...machine.env, PWD: project }
  log('5. opencode serve: start to ready')
  const started = Date.now()
  const server = spawn(OPENCODE, ['serve', '--port', '0', '--hostname', '127.0.0.1'], {
    cwd: project,
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const stopped = new Promise((resolve) => server.on('close', resolve))
  try {
    let output = ''
    const url = await new Promise((resolve, reject) => {
      const onData = (chunk) => {
        output += chunk
        const match = /listening on (http:\/\/\S+)/.exec(output)
        if (match) resolve(match[1])
      }
      server.stdout.setEncoding('utf8').on('data', onData)
      server.stderr.setEncoding('utf8').on('data', onData)
      server.on('close', (code) => reject(new Error(`opencode serve exited (${code}): ${output}`)))
    })
    const listening = Date.now() - started
    const query = `directory=${encodeURIComponent(project)}`
    const call = async (method, path, body) => {
      const t = Date.now()
      const response = await fetch(`${url}${path}${path.includes('?') ? '&' : '?'}${query}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body)
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`)
      return { json: text ? JSON.parse(text) : undefined, ms: Date.now() - t }
    }
    await call('GET', '/global/health')
    row('5', 'opencode serve: start -> listening', seconds(listening))
    row('5', 'opencode serve: start -> health answered', seconds(Date.now() - started))

    const prompt = (id, text) =>
      call('POST', `/session/${id}/message`, {
        parts: [{ type: 'text', text }],
        model: { providerID: 'scripted', modelID: 'echo' }
      })
    const session = (await call('POST', '/session', {})).json.id
    const turns = []
    const firstTurn = await prompt(session, 'turn 1: how long does this take?')
    turns.push(firstTurn.ms)
    row('5', 'HTTP prompt, first in the server (cold)', seconds(firstTurn.ms))
    const info = firstTurn.json.info
    row(
      '5',
      'HTTP prompt answer carries tokens / cost',
      `${JSON.stringify(info.tokens)} / $${info.cost}`
    )
    const exportSize = async (turnCount) => {
      const result = await exec(OPENCODE, ['export', session], { cwd: project, env })
      const json = result.stdout.slice(result.stdout.indexOf('{'))
      row(
        '5',
        `session export (opencode export, JSON) after ${turnCount} turn(s)`,
        `${kib(json.length)}, gzip ${kib(gzipSync(json).length)} (export took ${seconds(result.ms)} next to serve, exit ${result.code})`
      )
    }
    if (TURNS.includes(1)) await exportSize(1)
    const last = TURNS.at(-1) ?? 1
    for (let n = 2; n <= last; n++) {
      turns.push((await prompt(session, `turn ${n}: how long does this take?`)).ms)
      if (n % 10 === 0) log(`5. grown to ${n} turns over HTTP`)
      if (TURNS.includes(n)) await exportSize(n)
    }
    const warm = turns.slice(1)
    if (warm.length > 0) {
      row(
        '5',
        `HTTP prompt, warm, median of ${warm.length}`,
        `${seconds(median(warm))} (min ${seconds(Math.min(...warm))}, max ${seconds(Math.max(...warm))})`
      )
      row(
        '5',
        'bare opencode run --session (item 1) / warm HTTP prompt',
        ratio(median(bare), median(warm))
      )
    }
    // `opencode run` is itself a client of an in-process server; --attach points it at ours.
    const attached = []
    let attachedOutput = ''
    for (let rep = 0; rep < 3; rep++) {
      const result = await exec(
        OPENCODE,
        [
          'run',
          '--attach',
          url,
          '--format',
          'json',
          `--session=${session}`,
          '--',
          'attached',
          'turn'
        ],
        { cwd: project, env }
      )
      attached.push(result.ms)
      attachedOutput = `exit ${result.code}, ${/"type":"text"/.test(result.stdout) ? 'text' : 'no text'}, ${/"type":"step_finish"/.test(result.stdout) ? 'step_finish (tokens, cost)' : 'no step_finish'}`
    }
    row(
      '5',
      'opencode run --attach (server up), median of 3',
      `${seconds(median(attached))} (${all(attached)}); ${attachedOutput}`
    )
    const fork = await call('POST', `/session/${session}/fork`, {})
    row('5', 'HTTP fork of that session', seconds(fork.ms))
    const exported = await exec(OPENCODE, ['export', fork.json.id], { cwd: project, env })
    const file = join(project, '..', 'fork.json')
    await writeFile(file, exported.stdout.slice(exported.stdout.indexOf('{')))
    await call('DELETE', `/session/${fork.json.id}`)
    const imported = await exec(OPENCODE, ['import', file], { cwd: project, env })
    const seen = await call('GET', `/session/${fork.json.id}`).then(
      () => 'yes',
      () => 'no'
    )
    const after = await prompt(fork.json.id, 'after the import').then(
      (r) => `yes, ${seconds(r.ms)}`,
      () => 'no'
    )
    row(
      '5',
      'CLI import next to serve: exit / serve sees it / prompt works',
      `${imported.code} (${seconds(imported.ms)}) / ${seen} / ${after}`
    )
  } finally {
    server.kill('SIGTERM')
    const force = setTimeout(() => server.kill('SIGKILL'), 10_000)
    await stopped
    clearTimeout(force)
  }
}

/** A checkout-like tree: `files` files of 1 KiB in files / 10 dirs, below ~sqrt(dirs) top dirs. */
async function makeWorkspace(dir, files) {
  await rm(dir, { recursive: true, force: true })
  const dirs = Math.max(1, Math.round(files / 10))
  const top = Math.max(1, Math.round(Math.sqrt(dirs)))
  const body = `${'x'.repeat(1023)}\n`
  for (let d = 0; d < dirs; d++) {
    const sub = join(dir, `pkg-${d % top}`, `dir-${d}`)
    mkdirSync(sub, { recursive: true })
    for (let f = d; f < files; f += dirs) writeFileSync(join(sub, `file-${f}.txt`), body)
  }
  return dirs + top
}

/** What one privileged command of the sandbox is, for the breakdown. */
function pieceOf({ command, args }) {
  if (command === 'setfacl') {
    const revoke = args.includes('-x')
    const spec = args[args.indexOf(revoke ? '-x' : '-m') + 1] ?? ''
    if (args.includes('-R')) return `setfacl -R ${revoke ? '-x' : '-m'} on the workspace`
    if (revoke) return 'setfacl -x on ancestors and readable paths'
    return spec.endsWith(':x') ? 'setfacl -m on ancestors (search)' : 'setfacl -m on readable paths'
  }
  const names = {
    useradd: 'useradd',
    chmod: 'chmod 700 of its home',
    install: 'install -d of its tmp dir',
    kill: 'kill',
    chown: 'chown -R --from (files handed back)',
    userdel: 'userdel --remove'
  }
  return names[command] ?? command
}

/** Section 7: the sandbox's pieces, timed on their own, with kugetsu's own modules. */
async function containmentPieces({ scratch, machine, entry, keys }) {
  if (process.platform !== 'linux') {
    row('7', 'containment pieces', 'skipped: the sandbox is Linux only')
    return
  }
  const src = buildSources(join(ROOT, 'build', 'bench', 'src'))
  const { openSandbox } = await src('sandbox/sandbox')
  const { execCommand, findPrivilege } = await src('sandbox/privilege')
  const { runAll } = await src('sandbox/run-all')
  const { createAgentUser, removeAgentUser } = await src('sandbox/agent-user')
  const { accessGrants } = await src('sandbox/access')
  const { signalUser } = await src('sandbox/user-launcher')
  let against
  if (flags.against) {
    const tree = join(ROOT, 'build', 'bench', 'against')
    await rm(tree, { recursive: true, force: true })
    await mkdir(tree, { recursive: true })
    const unpacked = await exec('sh', [
      '-c',
      'git -C "$1" archive "$2" src | tar -x -C "$3"',
      'sh',
      ROOT,
      flags.against,
      tree
    ])
    if (unpacked.code !== 0) throw new Error(`git archive ${flags.against}: ${unpacked.stderr}`)
    const old = buildSources(join(tree, 'out'), join(tree, 'src'))
    against = await old('sandbox/sandbox')
  }
  const privilege = await findPrivilege()
  if ('unavailable' in privilege) {
    row('7', 'containment pieces', `skipped: ${privilege.unavailable}`)
    return
  }
  row('7', 'root reached through', privilege.via)

  // Laid out like a hosted runner's job: the checkout, and kugetsu's dir in RUNNER_TEMP.
  const base = join(scratch, 'pieces')
  const workspace = join(base, 'runner', 'work', 'octo-repo', 'octo-repo')
  const exchange = join(base, 'runner', 'work', '_temp', 'kugetsu-bench', 'exchange')
  await mkdir(exchange, { recursive: true })
  // mkdtemp's mode, as kugetsu's own dir has
  await chmod(join(exchange, '..'), 0o700)
  // what openWorkspace (src/main.ts) makes readable: the binary, the exchange dir, OPENCODE_CONFIG
  const readable = [realpathSync(OPENCODE), exchange, machine.configPath]
  const timed = (calls) => ({
    via: privilege.via,
    async run(command, args) {
      const started = performance.now()
      try {
        return await privilege.run(command, args)
      } finally {
        calls.push({ command, args, ms: performance.now() - started })
      }
    }
  })
  // the same steps as contain() and its release in src/sandbox/sandbox.ts, each command timed
  // (commands that run side by side there do here too: their times overlap)
  const breakdown = async () => {
    const calls = []
    const p = timed(calls)
    const user = await createAgentUser(p)
    const grants = accessGrants(p, user)
    let scan = 0
    try {
      await runAll([
        p.run('install', [
          '-d',
          '-o',
          `${user.uid}`,
          '-g',
          `${user.gid}`,
          '-m',
          '700',
          `${user.home}/tmp`
        ]),
        grants.grant({ readWrite: [workspace], read: readable })
      ])
    } finally {
      const started = performance.now()
      await signalUser(p, user, 'SIGKILL')
      scan = performance.now() - started
      await grants.revokeAll()
      await removeAgentUser(p, user)
    }
    return { calls, scan }
  }

  const pieces = new Map()
  const piece = (name, size, value) => {
    if (!pieces.has(name)) pieces.set(name, new Map())
    const bySize = pieces.get(name)
    if (!bySize.has(size)) bySize.set(size, [])
    bySize.get(size).push(value)
  }
  let privilegedPerRun = 0
  for (const files of FILES) {
    log(`7. a workspace of ${files} files`)
    const dirs = await makeWorkspace(workspace, files)
    const opened = []
    const released = []
    const baseline = []
    for (let rep = 1; rep <= REPS; rep++) {
      log(`7. ${files} files: set up and release the agent's user, repetition ${rep}/${REPS}`)
      if (against) {
        const started = performance.now()
        const sandbox = await against.openSandbox({ mode: 'user', workspace, readable })
        await sandbox.release()
        baseline.push(performance.now() - started)
      }
      let started = performance.now()
      const sandbox = await openSandbox({ mode: 'user', workspace, readable })
      opened.push(performance.now() - started)
      started = performance.now()
      await sandbox.release()
      released.push(performance.now() - started)

      const { calls, scan } = await breakdown()
      privilegedPerRun = calls.length
      const sums = new Map()
      for (const call of calls) {
        const name = pieceOf(call)
        const sum = sums.get(name) ?? { ms: 0, count: 0 }
        sums.set(name, { ms: sum.ms + call.ms, count: sum.count + 1 })
      }
      for (const [name, sum] of sums) piece(name, files, sum)
      piece('scan of /proc for its processes (before kill)', files, { ms: scan, count: 0 })
    }
    const total = opened.map((ms, i) => ms + released[i])
    row(
      '7',
      `${files} files in ${dirs} dirs: openSandbox (user, grants), median`,
      `${millis(median(opened))}  (${all(opened, millis)})`
    )
    row(
      '7',
      `${files} files in ${dirs} dirs: release (kill, hand back, revoke, userdel), median`,
      `${millis(median(released))}  (${all(released, millis)})`
    )
    row(
      '7',
      `${files} files in ${dirs} dirs: containment per turn (set-up + release), median`,
      `${millis(median(total))}  (${all(total, millis)})`
    )
    if (against) {
      row(
        '7',
        `${files} files in ${dirs} dirs: the same with ${flags.against}'s src/sandbox, median`,
        `${millis(median(baseline))}  (${all(baseline, millis)})`
      )
    }
  }
  for (const [name, bySize] of pieces) {
    const figures = [...bySize].map(([files, sums]) => {
      const count = sums[0].count
      return `${files} files ${millis(median(sums.map((sum) => sum.ms)))}${count > 1 ? ` (${count} calls)` : ''}`
    })
    row('7', `  ${name}, median`, figures.join('; '))
  }

  // On a GitHub-hosted runner root is reached through `sudo -n`: one more exec per command.
  const sudo = await execCommand('sudo', ['-n', 'true'])
  if (sudo.code === 0) {
    const direct = []
    const viaSudo = []
    for (let i = 0; i < Math.max(5, REPS); i++) {
      let started = performance.now()
      await execCommand('true', [])
      direct.push(performance.now() - started)
      started = performance.now()
      await execCommand('sudo', ['-n', 'true'])
      viaSudo.push(performance.now() - started)
    }
    const extra = median(viaSudo) - median(direct)
    // the commands above, findPrivilege's probe, and opencode started through sudo once
    const execs = privilegedPerRun + 2
    row(
      '7',
      'sudo -n true vs true (what sudo adds to each privileged command), median',
      `${millis(median(viaSudo))} vs ${millis(median(direct))}: +${millis(extra)}`
    )
    row(
      '7',
      `through sudo: ${execs} execs per turn (${privilegedPerRun} commands, the probe, opencode's start)`,
      `about +${millis(extra * execs)} per turn`
    )
  } else {
    row('7', 'sudo overhead', 'not measured: sudo -n does not work here')
  }

  // The key proxy: reading the opencode config, planning the routes, starting the proxy.
  const { guardProviderKeys } = await src('action/provider-keys')
  const quiet = { warn: () => undefined, mask: () => undefined }
  const withKey = { ...machine.env, ...keys }
  const withoutKey = { ...machine.env }
  for (const name of Object.keys(keys)) delete withoutKey[name]
  const proxyStart = []
  const proxyClose = []
  const noProxy = []
  for (let i = 0; i < Math.max(5, REPS); i++) {
    let started = performance.now()
    const proxy = await guardProviderKeys({ env: withKey, cwd: workspace, secrets: [], ...quiet })
    proxyStart.push(performance.now() - started)
    started = performance.now()
    await proxy.close()
    proxyClose.push(performance.now() - started)
    started = performance.now()
    const none = await guardProviderKeys({
      env: withoutKey,
      cwd: workspace,
      secrets: [],
      ...quiet
    })
    noProxy.push(performance.now() - started)
    await none.close()
  }
  row(
    '7',
    'key proxy: config read + plan + proxy start (guardProviderKeys), median',
    `${millis(median(proxyStart))}  (${all(proxyStart, millis)})`
  )
  row('7', 'key proxy: close, median', `${millis(median(proxyClose))}`)
  row('7', 'no key: config read + plan only, median', `${millis(median(noProxy))}`)

  // The tar guard: a restore's extraction through the guard against plain tar.
  const { installTarGuard } = await src('action/cache/tar-guard-setup')
  const { STATE_RESTORE_LIMITS } = await src('action/cache/cache-state')
  const { TOOL_RESTORE_LIMITS } = await src('action/opencode-install')
  const guardScript = join(ROOT, 'dist', 'tar-guard', 'index.js')
  const archives = []
  if (entry?.compression === 'zstd') {
    const file = join(base, 'issue.tzst')
    await writeFile(file, entry.archive)
    archives.push({
      label: `the issue's cache entry (${kib(entry.size)})`,
      file,
      limits: STATE_RESTORE_LIMITS
    })
  }
  const binary = realpathSync(OPENCODE)
  const big = join(base, 'opencode.tzst')
  const packed = await exec('sh', [
    '-c',
    'tar --posix -cf - -C "$1" "$2" | zstd -q -T0 -o "$3"',
    'sh',
    join(binary, '..'),
    binary.split('/').at(-1),
    big
  ])
  if (packed.code === 0) {
    archives.push({
      label: `an opencode-sized archive (${mib(statSync(big).size)} zstd, ${mib(statSync(binary).size)} unpacked)`,
      file: big,
      limits: TOOL_RESTORE_LIMITS
    })
  }
  for (const { label, file, limits } of archives) {
    const listed = await exec('tar', ['--use-compress-program', 'unzstd', '-tf', file])
    const scope = listed.stdout.split('\n')[0].replace(/^\.\//, '').split('/')[0]
    const plain = []
    const checked = []
    for (let rep = 1; rep <= REPS; rep++) {
      for (const through of ['plain', 'guard']) {
        const out = join(base, 'restore')
        await rm(out, { recursive: true, force: true })
        await mkdir(out, { recursive: true })
        // as @actions/cache extracts (GNU tar, zstd)
        const args = ['-xf', file, '-P', '-C', out, '--use-compress-program', 'unzstd']
        const started = performance.now()
        if (through === 'plain') {
          const result = await exec('tar', args)
          if (result.code !== 0) throw new Error(`tar failed: ${result.stderr}`)
          plain.push(performance.now() - started)
        } else {
          const guard = await installTarGuard(
            { ...limits, scope },
            { guardScript, path: process.env.PATH ?? '', tempDir: base }
          )
          const result = await exec(join(guard.dir, 'tar'), args)
          const outcome = await guard.outcome()
          await guard.remove()
          if (result.code !== 0)
            throw new Error(`guarded tar failed: ${outcome?.reason ?? result.stderr}`)
          checked.push(performance.now() - started)
        }
      }
    }
    row(
      '7',
      `restore of ${label}: plain tar vs through the tar guard, medians`,
      `${millis(median(plain))} vs ${millis(median(checked))}: +${millis(median(checked) - median(plain))}  (${all(plain, millis)} / ${all(checked, millis)})`
    )
  }
  await rm(base, { recursive: true, force: true })
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exit(1)
})

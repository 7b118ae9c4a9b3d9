// Bench section 9: a `continue` run as a GitHub-hosted runner or a matrix job runs it, against a
// warm bare `opencode run --session` of the same message on this machine (see bench.mjs).
//
// Runner conditions: every action run has a fresh home (each job's directories are new), none of
// the test machine's offline switches, every registry setting pointed at a loopback registry that
// records and 404s, and HTTP(S)_PROXY at a loopback proxy that records and refuses; so anything
// opencode would fetch shows up as a request, and nothing leaves the machine. The second
// condition adds a checkout at a new path each run (a self-hosted runner's or a matrix job's
// work dir). With --against REF, REF's dist/ runs the same conditions (a before/after).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Where a run's time goes, from the model server's request times: before the first chat
 * request (kugetsu's set-up, opencode's start, the session's import and the prompt's set-up),
 * the turn itself (the scripted model answers at once), and after the last request (reading
 * the session back, saving it, the reply).
 */
function phases(startedAt, durationMs, requests) {
  const chats = requests.filter((request) => request.kind === 'chat')
  if (!chats.length) return undefined
  return {
    before: chats[0].at - startedAt,
    turn: chats.at(-1).at - chats[0].at,
    after: startedAt + durationMs - chats.at(-1).at
  }
}

/**
 * The models catalogue kugetsu gives opencode in these runs (see src/opencode/model-catalogue.ts):
 * the scripted model's provider is the config's own, so only opencode's provider is kept. A bare
 * run given the same file shows what is kugetsu's own time and what the smaller catalogue saves.
 */
function keptCatalogue(root, dir) {
  const lines = readFileSync(join(root, 'dist', 'models-snapshot.jsonl'), 'utf8').split('\n')
  const opencode = lines.find((line) => line.startsWith('["opencode",'))
  if (!opencode) throw new Error('dist/models-snapshot.jsonl has no opencode provider')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, 'models-kept.json')
  writeFileSync(file, `{"opencode":${opencode.slice(opencode.indexOf('\t') + 1)}}\n`)
  return file
}

/** REF's dist/ in a directory of its own, for `entry`. */
function distOf(root, ref, outDir) {
  rmSync(outDir, { recursive: true, force: true })
  mkdirSync(outDir, { recursive: true })
  const archive = join(outDir, 'dist.tar')
  execFileSync('git', ['-C', root, 'archive', `--output=${archive}`, ref, 'dist', 'action.yml'])
  execFileSync('tar', ['-x', '-f', archive, '-C', outDir])
  return join(outDir, 'dist', 'index.js')
}

export async function runnerConditionFigures({
  root,
  against,
  reps,
  turn,
  bareTurn,
  model,
  standIn,
  row,
  log,
  format: { seconds, median, all, signed }
}) {
  const { startRegistry, registryEnv } = await standIn('registry')
  const { startRefusingProxy, WITHOUT_OFFLINE_SWITCHES } = await standIn('refusing-proxy')
  const entries = [{ id: 'this', label: '', entry: undefined }]
  if (against) {
    entries.push({
      id: 'against',
      label: ` (${against})`,
      entry: distOf(root, against, join(root, 'build', 'bench', 'against'))
    })
  }
  const variants = entries.flatMap(({ id, label, entry }) => [
    { id: `${id}:home`, label: `fresh home${label}`, entry, isolate: false },
    { id: `${id}:path`, label: `fresh home + new checkout path${label}`, entry, isolate: true }
  ])
  // started last: nothing may fail between their start and the finally that closes them
  const registry = await startRegistry()
  const proxy = await startRefusingProxy()
  const env = { ...WITHOUT_OFFLINE_SWITCHES, ...registryEnv(registry.url), ...proxy.env }
  const runs = Object.fromEntries(variants.map((v) => [v.id, []]))
  const bare = []
  const bareKept = []
  const kept = { OPENCODE_MODELS_PATH: keptCatalogue(root, join(root, 'build', 'bench')) }
  try {
    // each variant once before measuring: REF's first run may make a base or fetch a tool
    for (const variant of variants) {
      log(`9. warm-up: ${variant.label}`)
      await turn({ env, entry: variant.entry, isolate: variant.isolate })
    }
    // and the bare run once: its first call also makes its session, which must not be timed
    log('9. warm-up: bare opencode run')
    await bareTurn()
    for (let rep = 1; rep <= reps; rep++) {
      log(`9. runner conditions, repetition ${rep}/${reps}`)
      const order = variants.map((_, i) => variants[(i + rep - 1) % variants.length])
      for (const variant of order) {
        const marks = { registry: registry.requests.length, proxy: proxy.seen.length }
        const run = await turn({ env, entry: variant.entry, isolate: variant.isolate })
        runs[variant.id].push({
          ms: run.result.durationMs,
          phases: phases(run.startedAt, run.result.durationMs, run.model),
          fetched: [
            ...registry.requests.slice(marks.registry).map((r) => `${r.method} ${r.path}`),
            ...proxy.seen.slice(marks.proxy)
          ]
        })
      }
      const mark = model.requests.length
      const startedAt = Date.now()
      const ms = await bareTurn()
      bare.push({ ms, phases: phases(startedAt, ms, model.requests.slice(mark)) })
      bareKept.push({ ms: await bareTurn(kept) })
    }
  } finally {
    await Promise.allSettled([registry.close(), proxy.close()])
  }

  const times = (list) => list.map((run) => run.ms)
  row(
    '9',
    `bare opencode run --session (warm machine), median of ${reps}`,
    `${seconds(median(times(bare)))}  (${all(times(bare))})`
  )
  row(
    '9',
    `bare, given the catalogue kugetsu gives opencode, median of ${reps}`,
    `${seconds(median(times(bareKept)))}  (${all(times(bareKept))})`
  )
  for (const variant of variants) {
    const list = runs[variant.id]
    row(
      '9',
      `continue, ${variant.label}, median of ${reps}`,
      `${seconds(median(times(list)))}  (${all(times(list))})`
    )
    row(
      '9',
      `${variant.label} / warm bare, median of per-repetition ratios`,
      `${median(list.map((run, i) => run.ms / bare[i].ms)).toFixed(2)}x`
    )
    row(
      '9',
      `${variant.label} / bare given the same catalogue (kugetsu's own share)`,
      `${median(list.map((run, i) => run.ms / bareKept[i].ms)).toFixed(2)}x`
    )
    const fetched = list.flatMap((run) => run.fetched)
    row(
      '9',
      `${variant.label}: registry requests and connections beyond loopback, ${reps} runs`,
      fetched.length ? `${fetched.length}: ${[...new Set(fetched)].join(', ')}` : '0'
    )
  }
  // where the time goes: each phase's median, the action's against the bare run's
  const phase = (list, name) => median(list.map((run) => run.phases?.[name] ?? NaN))
  const split = (list) =>
    ['before', 'turn', 'after'].map((name) => seconds(phase(list, name))).join(' / ')
  row('9', 'bare: before the first model request / the turn / after it', split(bare))
  for (const variant of variants) {
    const list = runs[variant.id]
    const extra = ['before', 'after']
      .map((name) => `${name} ${signed(phase(list, name) - phase(bare, name))}`)
      .join(', ')
    row('9', `${variant.label}: the same phases`, `${split(list)}  (vs bare: ${extra})`)
  }
}

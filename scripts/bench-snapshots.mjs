// Bench section 10: what opencode's snapshots cost a runner. opencode keeps a git repository of
// the worktree under its data dir (for undo and per-step diffs); a runner's data dir is new each
// run, so its first snapshot adds the whole checkout. kugetsu sets `"snapshot": false` unless the
// workflow's config says otherwise (see src/opencode/config.ts). Measured on plain `opencode run`
// in a git checkout of N files, each run with a new XDG_DATA_HOME, alternating on and off.
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** A git checkout of `files` small files in dirs of 100. */
function makeCheckout(dir, files) {
  for (let d = 0; d * 100 < files; d++) {
    mkdirSync(join(dir, `d${d}`), { recursive: true })
    for (let f = 0; f < Math.min(100, files - d * 100); f++) {
      writeFileSync(join(dir, `d${d}`, `f${f}.txt`), `file ${d} ${f}\n`)
    }
  }
  const git = (...args) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' })
  git('init', '-q')
  git('add', '-A')
  git('-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-qm', 'files')
}

/** One `opencode run` of a short message in `cwd`, with a data dir of its own; its time in ms. */
async function runOnce({ opencode, machine, cwd, scratch, snapshot }) {
  const data = await mkdtemp(join(scratch, 'data-'))
  const started = Date.now()
  try {
    const code = await new Promise((resolve, reject) => {
      const child = spawn(opencode, ['run', '--format', 'json', '--model', machine.model], {
        cwd,
        env: {
          ...machine.env,
          XDG_DATA_HOME: data,
          OPENCODE_CONFIG_CONTENT: JSON.stringify({ snapshot })
        },
        stdio: ['pipe', 'ignore', 'ignore']
      })
      child.stdin.end('How long does a turn take?')
      child.on('error', reject)
      child.on('close', resolve)
    })
    if (code !== 0) throw new Error(`opencode run exited ${code}`)
    return Date.now() - started
  } finally {
    await rm(data, { recursive: true, force: true })
  }
}

export async function snapshotFigures({
  scratch,
  machine,
  opencode,
  reps,
  files,
  row,
  log,
  format: { seconds, median, all, signed }
}) {
  const cwd = join(scratch, `snapshots-${files}`)
  log(`10. a checkout of ${files} files`)
  makeCheckout(cwd, files)
  const runs = { on: [], off: [] }
  try {
    await runOnce({ opencode, machine, cwd, scratch, snapshot: false })
    for (let rep = 1; rep <= reps; rep++) {
      log(`10. snapshots on and off, repetition ${rep}/${reps}`)
      const order = rep % 2 ? ['on', 'off'] : ['off', 'on']
      for (const mode of order) {
        runs[mode].push(await runOnce({ opencode, machine, cwd, scratch, snapshot: mode === 'on' }))
      }
    }
  } finally {
    await rm(cwd, { recursive: true, force: true })
  }
  for (const mode of ['on', 'off']) {
    row(
      '10',
      `opencode run, new data dir, ${files} files, snapshots ${mode}${mode === 'off' ? " (kugetsu's default)" : ''}, median of ${reps}`,
      `${seconds(median(runs[mode]))}  (${all(runs[mode])})`
    )
  }
  row(
    '10',
    'what snapshots cost a fresh data dir (median of per-repetition differences)',
    signed(median(runs.on.map((ms, i) => ms - runs.off[i])))
  )
}

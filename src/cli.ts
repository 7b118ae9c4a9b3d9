/** The `kugetsu` command line (package.json `bin`). */
import { execFile } from 'node:child_process'
import { createInterface } from 'node:readline/promises'
import { runCli } from './cli/run-cli.js'
import { createOpencodeDriver } from './opencode/driver.js'
import { resolveOpencodeBinary } from './opencode/binary.js'
import { createLocalStore } from './store/local.js'

function gitRemote(cwd: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['remote', 'get-url', 'origin'], { cwd }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim() || undefined)
    )
  })
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim())
  } finally {
    rl.close()
  }
}

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  cwd: process.cwd(),
  io: {
    stdout: (text) => process.stdout.write(`${text}\n`),
    stderr: (text) => process.stderr.write(`${text}\n`),
    confirm: process.stdin.isTTY ? confirm : undefined
  },
  createStore: (dir) => createLocalStore(dir),
  createDriver: async ({ env }) => {
    const binary = await resolveOpencodeBinary({
      env,
      log: (line) => process.stderr.write(`kugetsu: ${line}\n`)
    })
    return createOpencodeDriver({ binary: binary.path, env })
  },
  gitRemote
})

/**
 * Everything one run of opencode needs: a private dir, the state store and cache client, the
 * binary, the provider-key proxy, the agent's sandbox and the driver, and closing all of it.
 */
import * as core from '@actions/core'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { Engine } from '../../engine.js'
import { errorMessage } from '../../errors.js'
import { buildOpencodeConfigContent } from '../../opencode/config.js'
import { createOpencodeDriver, type OpencodeDriverOptions } from '../../opencode/driver.js'
import { opencodeHomeSeed } from '../../opencode/fresh-home.js'
import { readCatalogue } from '../../opencode/model-catalogue.js'
import { createServeDriver } from '../../opencode/serve.js'
import type { OpencodeDriver } from '../../opencode/types.js'
import { SANDBOX_STATE, openSandbox } from '../../sandbox/sandbox.js'
import { sealState, stateCodec } from '../../store/crypto.js'
import { createEntryStore, type EntryCodec, type EntryStore } from '../../store/entries.js'
import { createActionsCacheClient, type CacheClient } from '../cache/cache-state.js'
import { redactSecrets } from '../secrets/masking.js'
import { opencodeForAction } from '../cache/opencode-install.js'
import { guardProviderKeys } from '../secrets/provider-keys.js'
import { agentAccess, opencodeEnvironment, seedConfigDirs } from './agent-setup.js'
import { loadCache, type RunContext } from './context.js'

/** Entries sealed with the state-key (when set), with secret values redacted before sealing. */
export function entryCodec(context: RunContext): EntryCodec {
  const { stateKey } = context.inputs
  return {
    encode: (text, name) => sealState(redactSecrets(text, context.secrets), stateKey, name),
    decode: stateCodec(stateKey).decode
  }
}

/** Everything one run of opencode needs: the binary, a private data dir, the state store. */
export interface Workspace {
  store: EntryStore
  cache: CacheClient
  engine: Engine
  /**
   * Stops opencode with everything it started and hands the agent's files back: nothing of the
   * agent runs while kugetsu publishes its work. The agent's user is removed meanwhile; close
   * waits for that.
   */
  stopAgent(): Promise<void>
  /** stopAgent, and removes the private dir. */
  close(): Promise<void>
}

let stoppedBy: NodeJS.Signals | undefined

/**
 * The signal that is ending this step (a cancel, the job's time limit), if any. What fails while
 * the workspace closes because of it is not the run's failure: the post step tells the issue.
 */
export function stopSignal(): NodeJS.Signals | undefined {
  return stoppedBy
}

/** Undoes what a workspace set up, newest first; a step that fails is warned about, not fatal. */
function undoList() {
  const steps: { what: string; undo: () => Promise<unknown> }[] = []
  return {
    add(what: string, undo: () => Promise<unknown>) {
      steps.push({ what, undo })
    },
    async run() {
      for (const { what, undo } of steps.splice(0).reverse()) {
        await undo().catch((error: unknown) =>
          core.warning(`could not ${what}: ${errorMessage(error)}`)
        )
      }
    }
  }
}

function settledValue<T>(result: PromiseSettledResult<T>): T {
  if (result.status === 'rejected') throw result.reason
  return result.value
}

/** One `opencode serve` for the run (the default), or opencode per command. */
function startDriver(
  context: RunContext,
  options: OpencodeDriverOptions & { cwd: string }
): OpencodeDriver & { close(options?: { graceMs?: number }): Promise<void> } {
  if (!context.inputs.opencodeServe) return createOpencodeDriver(options)
  const server = createServeDriver({
    ...options,
    onFallback: (reason) =>
      core.warning(`opencode serve could not start (${reason}); running opencode per command`)
  })
  // The agent can print it (it is in opencode's environment): masked, and redacted when saved.
  for (const secret of server.secrets()) {
    core.setSecret(secret)
    context.secrets.push(secret)
  }
  // Starts now, while the cached state is restored; the first opencode call waits for it.
  server.start()
  return server
}

/**
 * `ready`: what must be done before the agent may see the worktree (the turn's checkout); the
 * binary and the key proxy get ready meanwhile.
 */
export async function openWorkspace(
  context: RunContext,
  ready: Promise<unknown> = Promise.resolve()
): Promise<Workspace> {
  const { env, inputs, runner } = context
  await mkdir(runner.temp, { recursive: true })
  const dir = await mkdtemp(join(runner.temp, 'kugetsu-'))
  const undo = undoList()
  const agentUndo = undoList()
  let removeUser: () => Promise<void> = () => Promise.resolve()
  undo.add('remove its temp dir', () => rm(dir, { recursive: true, force: true }))
  undo.add("remove the agent's user", () => removeUser())
  undo.add('stop the agent', () => agentUndo.run())
  const stateRoot = join(dir, 'state')
  // what opencode must read of kugetsu's (a session to import): the agent reaches nothing else here
  const exchange = join(dir, 'exchange')
  const cwd = runner.workingDirectory
  try {
    await mkdir(stateRoot, { recursive: true })
    await mkdir(exchange, { recursive: true })
    const store = createEntryStore(stateRoot, entryCodec(context))
    const cache = createActionsCacheClient(stateRoot, loadCache)
    const binary = opencodeForAction(env, inputs.opencodeVersion, loadCache)
    const catalogue = readCatalogue()
    catalogue.catch(() => undefined)
    // Provider keys stay with kugetsu: opencode reaches its providers through a loopback proxy.
    // The config is read once the checkout is the turn's: the branch may have its own.
    const guarding = ready.then(() =>
      guardProviderKeys({
        env,
        cwd,
        opencodeConfig: inputs.opencodeConfig,
        secrets: context.secrets
      })
    )
    const granting = agentAccess(context, binary, exchange, ready)
    // The agent's user is made while the binary, the key proxy and the checkout get ready.
    const [keysSettled, sandboxSettled, accessSettled] = await Promise.allSettled([
      guarding,
      openSandbox({
        mode: inputs.sandbox,
        // for the post step, should this step be killed before it releases the sandbox
        onRecord: (record) => core.saveState(SANDBOX_STATE, record ? JSON.stringify(record) : ''),
        access: granting,
        // the agent's home is new each run: opencode would fetch its plugin package into it
        seed: opencodeHomeSeed(inputs.opencodeVersion)
      }),
      granting
    ])
    if (keysSettled.status === 'fulfilled') {
      const keys = keysSettled.value
      agentUndo.add('stop the provider-key proxy', () => keys.close())
    }
    if (sandboxSettled.status === 'fulfilled') {
      const sandbox = sandboxSettled.value
      removeUser = () => sandbox.release()
      agentUndo.add("hand the agent's files back", () => sandbox.stop())
    }
    // the failure of an earlier stage first: a missing binary or a failed checkout is what to
    // mend, whatever the sandbox's set-up met meanwhile
    const access = settledValue(accessSettled)
    const [keys, sandbox] = [settledValue(keysSettled), settledValue(sandboxSettled)]
    if (!sandbox.user) {
      core.warning(
        'sandbox: off: the agent runs as the runner\u2019s user and can reach everything this job can (its credentials among them)'
      )
    }
    await seedConfigDirs(context, access, sandbox, agentUndo.add)
    const tool = await binary
    const opencodeEnv = await opencodeEnvironment(context, {
      keys,
      sandbox,
      access,
      tool,
      catalogue,
      dataDir: join(dir, 'opencode-data'),
      exchange
    })
    const driver = startDriver(context, {
      binary: tool.path,
      cwd,
      env: opencodeEnv,
      configContent: buildOpencodeConfigContent({
        user: inputs.opencodeConfig,
        inherited: env.OPENCODE_CONFIG_CONTENT,
        overlay: keys.overlay
      }),
      tempDir: exchange,
      launcher: sandbox.launcher
    })
    // After a turn nothing more is read of opencode: no grace between SIGTERM and SIGKILL (its
    // clean exit costs some 0.1 s of the run, for a data dir that is thrown away).
    let turnOver = false
    agentUndo.add('stop opencode', () => driver.close(turnOver ? { graceMs: 0 } : undefined))
    const engine = new Engine({
      store,
      driver,
      cwd,
      model: inputs.model || undefined,
      agent: inputs.agent || undefined,
      basePrompt: inputs.basePrompt || undefined,
      timeoutMs: inputs.timeoutMs,
      importBeforeRun: true
    })
    // A cancelled or timed-out step gets SIGINT or SIGTERM: opencode, in a process group of its
    // own (and as another user when contained), would outlive the step until the runner's
    // clean-up at the end of the job; it is stopped first, then the signal ends the step as it
    // would have.
    const onSignal = (signal: NodeJS.Signals) => {
      stoppedBy = signal
      void close().finally(() => process.kill(process.pid, signal))
    }
    const close = async () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      await undo.run()
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    // The user's removal (userdel, some 0.2 s) needs nothing of the turn: it runs while the work is
    // published and the state saved, and close waits for it.
    const stopAgent = async () => {
      turnOver = true
      await agentUndo.run()
      // started, not awaited: close's undo waits for it (and says if it failed)
      removeUser().catch(() => undefined)
    }
    return { store, cache, engine, stopAgent, close }
  } catch (error) {
    await undo.run()
    throw error
  }
}

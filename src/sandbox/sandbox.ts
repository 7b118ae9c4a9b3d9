/**
 * Containing the agent: opencode, its tools and everything they start run as an OS user made for
 * this run, with no sudo, no view of the runner user's processes (their /proc environ holds the
 * job's credentials) or private files, and write access to the working directory, its own home
 * and temp dir only.
 */
import { KugetsuError } from '../errors.js'
import type { HomeSeed } from '../opencode/fresh-home.js'
import { localLauncher, type Launcher } from '../opencode/launcher.js'
import { accessGrants, type AccessGrants, type Grant } from './access.js'
import { agentUserExists, createAgentUser, removeAgentUser, type AgentUser } from './agent-user.js'
import { findPrivilege, type Privilege } from './privilege.js'
import { seedHome } from './home-seed.js'
import { runAll } from './run-all.js'
import { killUser, userLauncher } from './user-launcher.js'

export type SandboxMode = 'user' | 'off'

/** What the agent may reach beyond its own home. */
export interface SandboxAccess {
  /** The working directory: the agent reads and writes it. */
  workspace: string
  /** Files and directories opencode must read: its binary, a config file, the exchange dir. */
  readable: string[]
}

export interface SandboxOptions {
  mode: SandboxMode
  /**
   * Granted once the user is made: a promise lets the caller get them ready (the checkout, the
   * binary) while the user is made. Its failure is the caller's own, passed on as it is.
   */
  access: SandboxAccess | Promise<SandboxAccess>
  /** Made in the agent's new home, owned by the agent, before anything of it runs. */
  seed?: HomeSeed
  /**
   * Told what there is to undo whenever that changes (undefined once released), so that another
   * process can release it should this one be killed first (see releaseRecorded).
   */
  onRecord?: (record: SandboxRecord | undefined) => void
}

/** The name of the action's saved state (core.saveState) holding a SandboxRecord. */
export const SANDBOX_STATE = 'sandbox'

/** What a sandbox set up: enough to undo it from another process. */
export interface SandboxRecord {
  user: AgentUser
  grants: Grant[]
}

export interface Sandbox {
  launcher: Launcher
  /** Set for the agent's environment: its own home, temp and XDG dirs, and user name. */
  env: Record<string, string>
  /** The agent's user, when contained. */
  user?: AgentUser
  /** Stops every agent process, hands its files back and revokes every grant. */
  stop(): Promise<void>
  /** stop, if not done yet, then removes the user with its home. */
  release(): Promise<void>
}

export const UNCONTAINED: Sandbox = {
  launcher: localLauncher,
  env: {},
  stop: () => Promise.resolve(),
  release: () => Promise.resolve()
}

function agentEnv(user: AgentUser): Record<string, string> {
  return {
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    TMPDIR: `${user.home}/tmp`,
    XDG_CONFIG_HOME: `${user.home}/.config`,
    XDG_DATA_HOME: `${user.home}/.local/share`,
    XDG_CACHE_HOME: `${user.home}/.cache`,
    XDG_STATE_HOME: `${user.home}/.local/state`
  }
}

/** Stops every process of the user, hands its files back and revokes its grants. */
async function stopAll(privilege: Privilege, user: AgentUser, grants: AccessGrants): Promise<void> {
  await killUser(privilege, user)
  await grants.revokeAll()
}

/** `stop`, then removes the user; the removal is tried even when stopping failed. */
async function releaseAll(
  privilege: Privilege,
  user: AgentUser,
  stop: () => Promise<void>
): Promise<void> {
  const failures: unknown[] = []
  await stop().catch((error: unknown) => failures.push(error))
  await removeAgentUser(privilege, user).catch((error: unknown) => failures.push(error))
  if (failures.length) throw failures[0]
}

/** The caller's own failure, from SandboxOptions.access: passed on, not a sandbox failure. */
class AccessNotReady extends Error {
  constructor(readonly reason: unknown) {
    super('the access to grant could not be got ready')
  }
}

async function contain(privilege: Privilege, options: SandboxOptions): Promise<Sandbox> {
  const access = Promise.resolve(options.access).catch((reason: unknown) => {
    throw new AccessNotReady(reason)
  })
  // settled later, after the user is made; not an unhandled rejection meanwhile
  access.catch(() => undefined)
  const user = await createAgentUser(privilege)
  const grants = accessGrants(privilege, user)
  const record = () => options.onRecord?.({ user, grants: grants.granted() })
  record()
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= stopAll(privilege, user, grants))
  let releasing: Promise<void> | undefined
  const release = () =>
    (releasing ??= releaseAll(privilege, user, stop).then(() => options.onRecord?.(undefined)))
  try {
    // its own tmp dir, its home and the grants touch different files: made side by side
    await runAll([
      privilege.run('install', [
        '-d',
        '-o',
        String(user.uid),
        '-g',
        String(user.gid),
        '-m',
        '700',
        `${user.home}/tmp`
      ]),
      ...(options.seed ? [seedHome(privilege, user, options.seed)] : []),
      access.then(({ workspace, readable }) =>
        grants.grant({ readWrite: [workspace], read: readable }).finally(record)
      )
    ])
  } catch (error) {
    await release().catch(() => undefined)
    throw error
  }
  return { launcher: userLauncher(privilege, user), env: agentEnv(user), user, stop, release }
}

/**
 * Undoes a sandbox another process set up and could not release (its step was killed outright):
 * the user's processes, its files in the workspace, its grants, the user. Nothing when the user is
 * gone already.
 */
export async function releaseRecorded(record: SandboxRecord): Promise<void> {
  const privilege = await findPrivilege()
  if ('unavailable' in privilege)
    throw new KugetsuError('sandbox-unavailable', privilege.unavailable)
  const { name, uid, home } = record.user
  if (!/^kugetsu-[0-9a-f]{8}$/.test(name) || !(uid > 0) || home !== `/home/${name}`) {
    throw new KugetsuError('sandbox-failed', `the recorded agent user ${name} is not kugetsu's`)
  }
  if (!(await agentUserExists(record.user))) return
  const grants = accessGrants(privilege, record.user, record.grants)
  await releaseAll(privilege, record.user, () => stopAll(privilege, record.user, grants))
}

/** The sandbox of one run; with mode `off`, opencode runs as this process's user. */
export async function openSandbox(options: SandboxOptions): Promise<Sandbox> {
  if (options.mode === 'off') return UNCONTAINED
  const privilege = await findPrivilege()
  if ('unavailable' in privilege) {
    throw new KugetsuError(
      'sandbox-unavailable',
      `${privilege.unavailable}. Run the job where kugetsu is root or has passwordless sudo on Linux (GitHub-hosted Linux runners, containers), or set sandbox: off to run the agent as the runner's user, with access to everything the job can reach`
    )
  }
  try {
    return await contain(privilege, options)
  } catch (error) {
    if (error instanceof AccessNotReady) throw error.reason
    if (error instanceof KugetsuError) {
      throw new KugetsuError(
        'sandbox-failed',
        `could not set up the agent's user: ${error.message} (sandbox: off runs the agent uncontained)`,
        { cause: error }
      )
    }
    throw error
  }
}

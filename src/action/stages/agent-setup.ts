/**
 * What the agent's opencode is given for a turn, apart from its user: what it may read, the
 * seeds and the plugin tree in its config dirs, and its environment (the key proxy's stand-ins,
 * the models catalogue the run can use). workspace.ts runs these in order.
 */
import * as core from '@actions/core'
import { realpath } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { errorMessage } from '../../errors.js'
import { mergeConfig } from '../../opencode/config.js'
import { projectConfigDirs, seedUnusedConfigDirs } from '../../opencode/config-dir-seed.js'
import { globalConfigDir, offlineDefaults } from '../../opencode/fresh-home.js'
import { writeRunCatalogue, type Catalogue } from '../../opencode/model-catalogue.js'
import { modelsNamedInConfigDirs } from '../../opencode/named-models.js'
import { lendPluginTree, needsOnlyPluginPackage } from '../../opencode/plugin-config-dir.js'
import type { Sandbox } from '../../sandbox/sandbox.js'
import type { OpencodeTool } from '../cache/opencode-install.js'
import { pluginPackagesForAction } from '../cache/plugin-packages.js'
import { agentEnvironment } from '../secrets/environment.js'
import type { ProviderKeys } from '../secrets/provider-keys.js'
import { loadCache, type RunContext } from './context.js'

/** What the turn's checkout holds for opencode, and what the agent's user may read. */
export interface AgentAccess {
  /** The checkout, the agent's to change. */
  workspace: string
  /** What the agent may read besides: the binary, the exchange dir, the plugin tree. */
  readable: string[]
  /** The checkout's `.opencode` dirs. */
  projectDirs: string[]
  /** Those with plugins or custom tools, lent the plugin tree. */
  toolDirs: string[]
  pluginTree: string | undefined
  /** Models the markdown agents, modes and commands name (model-catalogue.ts keeps theirs). */
  namedModels: string[]
}

/** Read once `ready` (the turn's checkout) settled: the branch may have its own `.opencode`. */
export async function agentAccess(
  context: RunContext,
  binary: Promise<OpencodeTool>,
  exchange: string,
  ready: Promise<unknown>
): Promise<AgentAccess> {
  const { env, inputs, runner } = context
  const cwd = runner.workingDirectory
  const readable = [
    await realpath((await binary).path),
    exchange,
    ...(env.OPENCODE_CONFIG ? [env.OPENCODE_CONFIG] : [])
  ]
  await ready
  const projectDirs = await projectConfigDirs(runner.workspace, cwd)
  // plugins and custom tools import @opencode-ai/plugin: the pinned tree, only when one has them
  const toolDirs: string[] = []
  for (const projectDir of projectDirs)
    if (await needsOnlyPluginPackage(projectDir)) toolDirs.push(projectDir)
  const pluginTree = toolDirs.length
    ? await pluginPackagesForAction(env, inputs.opencodeVersion, loadCache)
    : undefined
  if (pluginTree) readable.push(await realpath(join(pluginTree, 'node_modules')))
  const namedModels = await modelsNamedInConfigDirs([
    ...projectDirs,
    ...(inputs.sandbox === 'off' ? [globalConfigDir(env)] : []),
    ...(env.OPENCODE_CONFIG_DIR ? [env.OPENCODE_CONFIG_DIR] : [])
  ])
  return { workspace: cwd, readable, projectDirs, toolDirs, pluginTree, namedModels }
}

/**
 * opencode installs its plugin package into every config dir it reads, on every start: the dirs
 * that need nothing are seeded so that it does not, those with tools are lent the pinned tree.
 * Each undo is handed to `undoLater` as soon as there is something to undo.
 */
export async function seedConfigDirs(
  context: RunContext,
  access: AgentAccess,
  sandbox: Sandbox,
  undoLater: (what: string, undo: () => Promise<void>) => void
): Promise<void> {
  const { env, inputs } = context
  const unseed = await seedUnusedConfigDirs(
    [
      // without a user of its own the agent has the runner's home: on a hosted runner, new
      ...(sandbox.user
        ? []
        : [
            { dir: globalConfigDir(env), create: true },
            { dir: join(env.HOME || homedir(), '.opencode'), create: false }
          ]),
      ...access.projectDirs.map((dir) => ({ dir, create: false }))
    ],
    inputs.opencodeVersion
  )
  undoLater("take the seeds out of opencode's config dirs", unseed)
  if (access.pluginTree) {
    const unlend = await lendPluginTree(access.toolDirs, access.pluginTree, inputs.opencodeVersion)
    undoLater("take the plugin package out of the repository's .opencode dirs", unlend)
  }
}

/**
 * opencode's environment: the job's, less what it must not reach, with the key proxy's stand-ins
 * for provider keys, the agent's own home and data dir, and the models catalogue cut to the run's
 * providers (a failure there costs only time: opencode reads its whole catalogue).
 */
export async function opencodeEnvironment(
  context: RunContext,
  setup: {
    keys: ProviderKeys
    sandbox: Sandbox
    access: AgentAccess
    tool: OpencodeTool
    catalogue: Promise<Catalogue | undefined>
    dataDir: string
    exchange: string
  }
): Promise<NodeJS.ProcessEnv> {
  const { env, inputs } = context
  const { keys, sandbox } = setup
  const opencodeEnv = keys.environment(
    agentEnvironment(
      env,
      {
        ...offlineDefaults(env),
        XDG_DATA_HOME: setup.dataDir,
        ...(context.agentPath === undefined ? {} : { PATH: context.agentPath }),
        ...sandbox.env
      },
      {
        exposeToken: inputs.exposeGithubToken ? inputs.githubToken : undefined,
        withheld: [inputs.githubToken, inputs.stateKey]
      }
    )
  )
  const needs = {
    config: mergeConfig(keys.config, keys.overlay),
    model: inputs.model || undefined,
    env: opencodeEnv,
    namedModels: setup.access.namedModels
  }
  const models = await writeRunCatalogue(
    setup.exchange,
    setup.tool.version,
    needs,
    setup.catalogue
  ).catch((error: unknown) => {
    core.warning(
      `could not cut opencode's models catalogue to the run's providers (${errorMessage(error)}): opencode reads all of it`
    )
    return {}
  })
  return { ...opencodeEnv, ...models }
}

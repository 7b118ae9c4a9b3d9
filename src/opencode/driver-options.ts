/**
 * The options both opencode drivers take, and their defaults (driverSettings) in one place.
 */
import { buildOpencodeConfigContent } from './config.js'
import { localLauncher, type Launcher } from './launcher.js'

export interface OpencodeDriverOptions {
  /** Path of the opencode binary (see resolveOpencodeBinary). */
  binary: string
  /** Environment of every spawn (default process.env). */
  env?: NodeJS.ProcessEnv
  /**
   * `OPENCODE_CONFIG_CONTENT` for every spawn. Default: kugetsu's safety config
   * (buildOpencodeConfigContent) over the env's own `OPENCODE_CONFIG_CONTENT`, if any.
   */
  configContent?: string
  /** Timeout of a run without `timeoutMs` (default 30 minutes). */
  defaultTimeoutMs?: number
  /** Timeout of export, import and delete (default 2 minutes). */
  commandTimeoutMs?: number
  /** Between SIGTERM and SIGKILL (default 5 s; opencode 1.18 exits ~2 s after SIGTERM). */
  killGraceMs?: number
  /** Where import writes its temporary file (default os.tmpdir()); opencode must be able to read it. */
  tempDir?: string
  /** How opencode is started and stopped (default: as this process's user). */
  launcher?: Launcher
}

/** The options with their defaults filled in. */
export interface DriverSettings {
  binary: string
  /** The environment of every opencode process: the env with `OPENCODE_CONFIG_CONTENT` set. */
  env: NodeJS.ProcessEnv
  defaultTimeoutMs: number
  commandTimeoutMs: number
  killGraceMs: number
  launcher: Launcher
}

export function driverSettings(options: OpencodeDriverOptions): DriverSettings {
  const baseEnv = options.env ?? process.env
  const configContent =
    options.configContent ??
    buildOpencodeConfigContent({ inherited: baseEnv.OPENCODE_CONFIG_CONTENT })
  return {
    binary: options.binary,
    env: { ...baseEnv, OPENCODE_CONFIG_CONTENT: configContent },
    defaultTimeoutMs: options.defaultTimeoutMs ?? 30 * 60_000,
    commandTimeoutMs: options.commandTimeoutMs ?? 120_000,
    killGraceMs: options.killGraceMs ?? 5_000,
    launcher: options.launcher ?? localLauncher
  }
}

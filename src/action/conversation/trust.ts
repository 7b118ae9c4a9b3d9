/**
 * Whether the people whose words the agent reads could have asked kugetsu themselves (the same
 * rules as the trigger's gate, authorize.ts): looked up once per login a run, at most a bounded
 * number of logins, and a lookup that fails or is not made counts as untrusted.
 */
import { authorize, type AuthorizeInput, type Permission } from '../github/authorize.js'
import type { Forge } from '../github/forge.js'

/** Distinct logins looked up in one run at most: a crowded thread costs no more API calls. */
export const MAX_TRUST_LOOKUPS = 30

export interface TrustOptions {
  minPermission?: Permission
  allowedUsers?: readonly string[]
  allowedBots?: readonly string[]
  /** As the gate asks it (see access.ts: the forge's fallback included). */
  permissionOf: AuthorizeInput['permissionOf']
  /** Whose login rules apply (default github). */
  forge?: Forge
  /** Logins already known to pass (the requester, authorised before the run began). */
  known?: readonly string[]
  maxLookups?: number
}

export interface Trust {
  /** Looks up the logins not yet known (in order, until the lookup limit). */
  lookUp(people: readonly { login: string; userType?: string }[]): Promise<void>
  /** What a lookup found; undefined when never looked up. */
  of(login: string): boolean | undefined
}

export function createTrust(options: TrustOptions): Trust {
  const found = new Map<string, boolean>()
  for (const login of options.known ?? []) found.set(login.toLowerCase(), true)
  const limit = options.maxLookups ?? MAX_TRUST_LOOKUPS
  let lookups = 0
  return {
    async lookUp(people) {
      for (const { login, userType } of people) {
        const key = login.toLowerCase()
        if (found.has(key)) continue
        if (lookups >= limit) return
        lookups += 1
        // authorize never throws for the person: a failed lookup is a refusal.
        const decision = await authorize({
          login,
          userType: userType ?? 'User',
          minPermission: options.minPermission,
          allowedUsers: options.allowedUsers,
          allowedBots: options.allowedBots,
          forge: options.forge,
          permissionOf: options.permissionOf
        }).catch(() => ({ allowed: false }))
        found.set(key, decision.allowed)
      }
    },
    of(login) {
      return found.get(login.toLowerCase())
    }
  }
}

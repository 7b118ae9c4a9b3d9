/**
 * A forward proxy on 127.0.0.1 that records every connection asked of it and refuses it: pointed
 * at by HTTP(S)_PROXY, it shows what a process tried to reach beyond loopback.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

const LOOPBACK = '127.0.0.1,localhost'

export interface RefusingProxy {
  /** `CONNECT host:port` or `METHOD url`, in the order asked. */
  seen: string[]
  /** HTTP(S)_PROXY in both cases pointed here, loopback exempt. */
  env: Record<string, string>
  close(): Promise<void>
}

export async function startRefusingProxy(): Promise<RefusingProxy> {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`)
    res.writeHead(502).end()
  })
  server.on('connect', (req, socket) => {
    socket.on('error', () => undefined)
    seen.push(`CONNECT ${req.url}`)
    socket.end('HTTP/1.1 502 Refused\r\n\r\n')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    seen,
    env: {
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: LOOPBACK,
      no_proxy: LOOPBACK
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** The switches the test machine sets to keep opencode offline (opencode-env.ts), taken away. */
export const WITHOUT_OFFLINE_SWITCHES: Record<string, undefined> = {
  npm_config_offline: undefined,
  OPENCODE_DISABLE_MODELS_FETCH: undefined,
  OPENCODE_DISABLE_AUTOUPDATE: undefined,
  OPENCODE_DISABLE_SHARE: undefined,
  OPENCODE_DISABLE_LSP_DOWNLOAD: undefined,
  OPENCODE_DISABLE_DEFAULT_PLUGINS: undefined
}

/**
 * A live-feed client that subscribes and then never reads: a plain TCP socket that performs the
 * WebSocket upgrade, joins socket.io's default namespace, sends `subscribe`, and stops reading at
 * the TCP level (socket.pause(): the kernel's receive buffer fills and the server's writes back
 * up). It keeps answering the heartbeat blindly (engine.io "pong" frames), so the server cannot
 * tell it from a live but stuck browser tab.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** One masked WebSocket text frame (clients must mask). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const mask = randomBytes(4);
  const len = payload.length;
  const header =
    len < 126
      ? Buffer.from([0x81, 0x80 | len])
      : Buffer.from([0x81, 0x80 | 126, (len >> 8) & 0xff, len & 0xff]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export interface StuckClient {
  readonly socket: Socket;
  /** True once the server closed the connection. */
  closed(): boolean;
  close(): void;
}

/** Connects, subscribes to `runId` and stops reading. Resolves once the subscribe is sent. */
export async function stuckSubscriber(
  port: number,
  runId: string,
  pongEveryMs = 1000,
): Promise<StuckClient> {
  const socket = connect(port, '127.0.0.1');
  let ended = false;
  socket.on('close', () => (ended = true));
  socket.on('error', () => (ended = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const key = randomBytes(16).toString('base64');
  socket.write(
    `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n\r\n`,
  );
  // Read the upgrade answer and engine.io's open packet, then nothing more.
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (!seen.startsWith('HTTP/1.1 101')) {
        if (seen.includes('\r\n')) reject(new Error(`upgrade refused: ${seen.split('\r\n')[0]}`));
        return;
      }
      if (seen.includes('0{"sid"')) {
        socket.off('data', onData);
        socket.pause();
        resolve();
      }
    };
    socket.on('data', onData);
  });
  socket.write(textFrame('40'));
  socket.write(textFrame(`420${JSON.stringify(['subscribe', { runId }])}`));
  const pong = setInterval(() => {
    if (!ended) socket.write(textFrame('3'));
  }, pongEveryMs);
  pong.unref();
  socket.on('close', () => clearInterval(pong));
  return {
    socket,
    closed: () => ended,
    close() {
      clearInterval(pong);
      socket.destroy();
    },
  };
}

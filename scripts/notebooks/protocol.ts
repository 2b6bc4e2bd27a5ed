/**
 * Jupyter messaging protocol 5.x on the wire: frames, HMAC-SHA256 signatures, headers.
 * https://jupyter-client.readthedocs.io/en/stable/messaging.html#the-wire-protocol
 */
import { createHmac, randomUUID, timingSafeEqual } from 'crypto';

export const PROTOCOL_VERSION = '5.3';
const DELIMITER = '<IDS|MSG>';

export interface MessageHeader {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface JupyterMessage<C = Record<string, unknown>> {
  header: MessageHeader;
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: C;
  buffers?: Buffer[];
}

/** A new message header of the given type for a client session. */
export function newHeader(msgType: string, session: string): MessageHeader {
  return { msg_id: randomUUID(), session, username: 'kit-runner', date: new Date().toISOString(), msg_type: msgType, version: PROTOCOL_VERSION };
}

/** A new request message (no parent) with the given content. */
export function newMessage<C>(msgType: string, session: string, content: C): JupyterMessage<C> {
  return { header: newHeader(msgType, session), parent_header: {}, metadata: {}, content };
}

/** HMAC-SHA256 hex signature of the four JSON frames (empty string when the key is empty). */
export function sign(key: string, frames: Array<Buffer | string>): string {
  if (!key) return '';
  const hmac = createHmac('sha256', key);
  for (const f of frames) hmac.update(f);
  return hmac.digest('hex');
}

/** Serialise a message into wire frames (without routing identities), signed with key. */
export function encodeMessage(msg: JupyterMessage<unknown>, key: string): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p)));
  return [Buffer.from(DELIMITER), Buffer.from(sign(key, parts)), ...parts, ...(msg.buffers ?? [])];
}

/** Parse wire frames (optionally preceded by routing identities) and verify the signature; throws on a bad one. */
export function decodeMessage(frames: Buffer[], key: string): JupyterMessage {
  const at = frames.findIndex((f) => f.toString() === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new Error(`malformed Jupyter message: expected '${DELIMITER}' + signature + 4 frames, got ${frames.length} frames`);
  const signature = frames[at + 1].toString();
  const parts = frames.slice(at + 2, at + 6);
  if (key) {
    const expected = Buffer.from(sign(key, parts));
    const got = Buffer.from(signature);
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      throw new Error('Jupyter message with an invalid HMAC signature (expected HMAC-SHA256 of header, parent_header, metadata, content)');
    }
  }
  const [header, parent_header, metadata, content] = parts.map((p) => JSON.parse(p.toString('utf8')));
  return { header, parent_header, metadata, content, buffers: frames.slice(at + 6) };
}

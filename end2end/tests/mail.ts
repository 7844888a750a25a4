import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "@playwright/test";

/**
 * Reads the mail the test server sent over SMTP to the test SMTP server (aiosmtpd, see
 * playwright.config.ts), which keeps every message as a file in a Maildir. A test that
 * needs an emailed code reads it here, as a person would read their inbox.
 */
export interface Mail {
  to: string;
  subject: string;
  messageId: string;
  /** The plain-text part, decoded. */
  text: string;
  /** When the SMTP server stored it (ms since the epoch). */
  receivedAt: number;
}

/** The Maildir of the SMTP server that the running test's project's server sends to. */
const MAILDIR = () => {
  const dir = test.info().project.metadata?.maildir as string | undefined;
  if (!dir) throw new Error("The project has no maildir: run the tests through playwright.config.ts");
  return dir;
};

/** The newest message to `address`, or undefined if none has arrived. */
export function newestMailTo(address: string): Mail | undefined {
  const dir = join(MAILDIR(), "new");
  let files: string[];
  try {
    files = readdirSync(dir).map((f) => join(dir, f));
  } catch {
    return undefined;
  }
  return files
    .map((f) => ({ f, at: statSync(f).mtimeMs }))
    .sort((a, b) => b.at - a.at)
    .map(({ f, at }) => ({ ...parse(readFileSync(f, "latin1")), receivedAt: at }))
    .find((m) => m.to.toLowerCase() === address.toLowerCase());
}

/** Waits (polling the Maildir) for a message to `address` that `accept` likes. */
export async function waitForMailTo(
  address: string,
  accept: (m: Mail) => boolean = () => true,
): Promise<Mail> {
  let found: Mail | undefined;
  await expect
    .poll(() => {
      found = newestMailTo(address);
      return found !== undefined && accept(found);
    }, { message: `a mail to ${address}`, timeout: 15_000 })
    .toBe(true);
  return found as Mail;
}

function headers(block: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of block.replace(/\r\n/g, "\n").replace(/\n[ \t]+/g, " ").split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) map.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return map;
}

function split(raw: string): [Map<string, string>, string] {
  const text = raw.replace(/\r\n/g, "\n");
  const end = text.indexOf("\n\n");
  return [headers(text.slice(0, end)), text.slice(end + 2)];
}

function decode(body: string, encoding: string | undefined): string {
  let bytes: Buffer;
  switch ((encoding ?? "7bit").toLowerCase()) {
    case "base64":
      bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
      break;
    case "quoted-printable":
      bytes = Buffer.from(
        body.replace(/=\n/g, "").replace(/=([0-9A-Fa-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))),
        "latin1",
      );
      break;
    default:
      bytes = Buffer.from(body, "latin1");
  }
  return bytes.toString("utf8");
}

/** Encoded words in headers (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`). */
function decodeHeader(value: string): string {
  return value.replace(/=\?utf-8\?([bq])\?([^?]*)\?=\s*/gi, (_, kind: string, data: string) =>
    kind.toLowerCase() === "b"
      ? Buffer.from(data, "base64").toString("utf8")
      : decode(data.replace(/_/g, " "), "quoted-printable"),
  );
}

/** The text/plain part of a message (lettre writes multipart/alternative). */
function plainText(head: Map<string, string>, body: string): string {
  const type = head.get("content-type") ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!boundary) return decode(body, head.get("content-transfer-encoding"));
  for (const part of body.split(`--${boundary}`)) {
    const trimmed = part.replace(/^\n/, "");
    if (!trimmed.includes("\n\n")) continue;
    const [h, b] = split(trimmed);
    if ((h.get("content-type") ?? "").toLowerCase().startsWith("text/plain")) {
      return decode(b.replace(/\n$/, ""), h.get("content-transfer-encoding"));
    }
  }
  return "";
}

function parse(raw: string): Omit<Mail, "receivedAt"> {
  const [head, body] = split(raw);
  return {
    // aiosmtpd records the envelope recipient in X-RcptTo.
    to: head.get("x-rcptto") ?? "",
    subject: decodeHeader(head.get("subject") ?? ""),
    messageId: head.get("message-id") ?? "",
    text: plainText(head, body),
  };
}

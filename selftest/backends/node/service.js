// A third trading-service, independent of the gate's stub and of Python: the WebSocket contract
// (shared/contract.md) on Node's `ws` and `jsonwebtoken`, each on its own defaults (ws takes messages
// up to 100 MiB). The gate must pass against it.
//
// Run it with `node selftest/backends/node/service.js` after `npm ci` in its folder. Once it accepts
// connections it prints one line on stdout, `listening on HOST:PORT` (the real port, which matters with
// PORT=0); it logs on stderr. SIGTERM or SIGINT stops it with exit code 0; a bad setting exits with code 2.
//
// Settings, from the environment:
//   HOST          address to bind (default 127.0.0.1)
//   PORT          port to bind (default 8001; 0 picks a free one)
//   JWT_SECRET    HS256 secret shared with the user-service, at least 32 characters (required)
//   AUTH_TIMEOUT  seconds a client has to send its auth message (default 10)
"use strict";

const http = require("node:http");
const jwt = require("jsonwebtoken");
const { WebSocketServer } = require("ws");

const WS_PATH = "/ws/realtime";
const AUDIENCE = "trademe-app";
const ISSUER = "trademe-user-service";
const BAD_MESSAGE = 4001;
const BAD_TOKEN = 4003;
const MAX_TOKEN_CHARS = 2048;
const MIN_SECRET_CHARS = 32;

class AuthError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function settings(env) {
  const secret = env.JWT_SECRET || "";
  if (secret.length < MIN_SECRET_CHARS) {
    throw new Error(`JWT_SECRET must be at least ${MIN_SECRET_CHARS} characters`);
  }
  const authTimeout = Number(env.AUTH_TIMEOUT || "10");
  const port = Number(env.PORT || "8001");
  if (!(authTimeout > 0) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error("AUTH_TIMEOUT must be a positive number and PORT a port number");
  }
  return { host: env.HOST || "127.0.0.1", port, secret, authTimeout };
}

// The JSON object in a text message; null for a binary one, non-JSON, or JSON that is not an object.
function jsonObject(data, isBinary) {
  if (isBinary) return null;
  try {
    const value = JSON.parse(data.toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null; // SyntaxError, or RangeError for 100 KB of '['
  }
}

function tokenOf(data, isBinary) {
  const message = jsonObject(data, isBinary);
  if (message === null) throw new AuthError(BAD_MESSAGE, "the first message must be a JSON object in a text frame");
  if (message.type !== "auth") throw new AuthError(BAD_MESSAGE, "the first message must have type 'auth'");
  if (typeof message.token !== "string" || message.token === "") {
    throw new AuthError(BAD_MESSAGE, "token missing, empty or not a string");
  }
  return message.token;
}

// The user id of an access token from the user-service. jsonwebtoken checks the signature, the algorithm,
// aud, iss, exp and nbf when present; the contract also requires exp and iat, refuses an iat in the future
// and a critical header it does not know.
function userOf(token, secret) {
  if (token.length > MAX_TOKEN_CHARS) throw new AuthError(BAD_TOKEN, `token longer than ${MAX_TOKEN_CHARS} characters`);
  let decoded;
  try {
    decoded = jwt.verify(token, secret, { algorithms: ["HS256"], audience: AUDIENCE, issuer: ISSUER, complete: true });
  } catch (error) {
    throw new AuthError(BAD_TOKEN, `invalid token: ${error.message}`);
  }
  const { header, payload } = decoded;
  const now = Math.floor(Date.now() / 1000);
  if (header.crit !== undefined) throw new AuthError(BAD_TOKEN, "unknown critical header");
  if (typeof payload !== "object" || Array.isArray(payload)) throw new AuthError(BAD_TOKEN, "payload not an object");
  if (typeof payload.exp !== "number") throw new AuthError(BAD_TOKEN, "exp missing");
  if (typeof payload.iat !== "number" || payload.iat > now) throw new AuthError(BAD_TOKEN, "iat missing or in the future");
  if (payload.type !== "access") throw new AuthError(BAD_TOKEN, "token type must be 'access'");
  const userId = payload.userId;
  if (!(Number.isInteger(userId) || (typeof userId === "string" && /^[0-9]+$/.test(userId)))) {
    throw new AuthError(BAD_TOKEN, "userId missing or not a number");
  }
  if (typeof payload.email !== "string" || payload.email === "") throw new AuthError(BAD_TOKEN, "email missing");
  return Number(userId);
}

function answer(request, sessions, received) {
  const kind = request === null ? null : request.type;
  if (kind === "ping") return { type: "pong", timestamp: Date.now() / 1000 };
  if ((kind === "subscribe" || kind === "unsubscribe") && typeof request.symbol === "string") {
    return { type: `${kind}d`, symbol: request.symbol };
  }
  if (kind === "get_stats") return { type: "stats", data: { connections: sessions, messages: received } };
  if (request === null) return { type: "error", message: "expected a JSON object in a text frame" };
  return { type: "error", message: `cannot handle ${JSON.stringify(kind)} here` };
}

function main() {
  let config;
  try {
    config = settings(process.env);
  } catch (error) {
    process.stderr.write(`node service: ${error.message}\n`);
    return 2;
  }
  let sessions = 0;
  const server = http.createServer((request, response) => {
    const found = request.url === "/health";
    response.writeHead(found ? 200 : 404, { "Content-Type": "text/plain" });
    response.end(found ? "ok" : "unknown path");
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request, socket, head) => {
    if (new URL(request.url, "http://service").pathname !== WS_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit("connection", ws));
  });
  wss.on("connection", (ws) => {
    let user = null;
    let received = 0;
    const refuse = (refusal) => {
      ws.send(JSON.stringify({ type: "error", message: refusal.message }));
      ws.close(refusal.code);
    };
    const timer = setTimeout(() => refuse(new AuthError(BAD_MESSAGE, "authentication timeout")), config.authTimeout * 1000);
    ws.on("error", (error) => process.stderr.write(`client fault: ${error.message}\n`)); // ws closes with 1007/1009
    ws.on("close", () => {
      clearTimeout(timer);
      if (user !== null) sessions -= 1;
    });
    ws.on("message", (data, isBinary) => {
      received += 1;
      if (user !== null) {
        ws.send(JSON.stringify(answer(jsonObject(data, isBinary), sessions, received)));
        return;
      }
      clearTimeout(timer);
      try {
        user = userOf(tokenOf(data, isBinary), config.secret);
      } catch (refusal) {
        if (!(refusal instanceof AuthError)) throw refusal;
        refuse(refusal);
        return;
      }
      sessions += 1;
      ws.send(JSON.stringify({ type: "auth_success", message: "Authenticated", user_id: user }));
    });
  });
  server.listen(config.port, config.host, () => {
    const { address, port } = server.address();
    process.stdout.write(`listening on ${address}:${port}\n`);
  });
  const stop = () => {
    for (const client of wss.clients) client.terminate();
    server.close(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  return null;
}

const code = main();
if (code !== null) process.exitCode = code;

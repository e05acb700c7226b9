// The trading-service's realtime channel, as the frontend dialled it before the outage was fixed.
export function connectRealtime(token: string): WebSocket {
  const url = `ws://${window.location.hostname}:8001/api/v1/ai/ws/chat`;
  const ws = new WebSocket(url);
  ws.onopen = () => {
    ws.send(JSON.stringify({ type: 'authenticate', token }));
  };
  return ws;
}

connectRealtime(localStorage.getItem('access_token') ?? '');

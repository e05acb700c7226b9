function c(o){const t=`ws://${window.location.hostname}:8001/api/v1/ai/ws/chat`,n=new WebSocket(t);return n.onopen=()=>{n.send(JSON.stringify({type:"authenticate",token:o}))},n}c(localStorage.getItem("access_token")??"");
//# sourceMappingURL=index-Mp4ed0ut.js.map

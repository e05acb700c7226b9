class a{constructor(t){this.config=t,this.ws=null}connect(){const e=window.location.origin.replace(/^http/,"ws")+"/ws/realtime";this.ws=new WebSocket(e),this.ws.onopen=()=>{const i={type:"authenticate",token:this.config.token};this.ws.send(JSON.stringify(i))}}}new a({token:localStorage.getItem("access_token")}).connect();
//# sourceMappingURL=index-Cx81fQ2e.js.map

// The shared document of one file: a Yjs text synchronised with the server
// (pycrdt-websocket) and every other browser that has the file open.

import { useEffect, useState } from "react";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { studioToken } from "./api";

export const TEXT_NAME = "source"; // the server's name for the text (osop/studio/collab.py)

const COLOURS = ["#3b82f6", "#22c55e", "#eab308", "#ef4444", "#6b7280"];

export interface Shared {
  doc: Y.Doc;
  ytext: Y.Text;
  provider: WebsocketProvider;
}

/** Replace only the span of `ytext` that differs from `next` (Yjs merges the rest). */
export function applyMinimalChange(ytext: Y.Text, next: string): void {
  const old = ytext.toString();
  if (old === next) return;
  let start = 0;
  const limit = Math.min(old.length, next.length);
  while (start < limit && old.charCodeAt(start) === next.charCodeAt(start)) start++;
  let endOld = old.length;
  let endNew = next.length;
  while (endOld > start && endNew > start && old.charCodeAt(endOld - 1) === next.charCodeAt(endNew - 1)) {
    endOld--;
    endNew--;
  }
  ytext.doc!.transact(() => {
    if (endOld > start) ytext.delete(start, endOld - start);
    if (endNew > start) ytext.insert(start, next.slice(start, endNew));
  });
}

export interface SharedState {
  shared: Shared | null;
  text: string | null;
  synced: boolean;
  connected: boolean;
  peers: number;
}

export function useSharedText(path: string | null, userName: string): SharedState {
  const [shared, setShared] = useState<Shared | null>(null);
  const [text, setText] = useState<string | null>(null);
  const [synced, setSynced] = useState(false);
  const [connected, setConnected] = useState(false);
  const [peers, setPeers] = useState(1);

  useEffect(() => {
    setText(null);
    setSynced(false);
    if (path === null) {
      setShared(null);
      return;
    }
    const doc = new Y.Doc();
    const url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/ws`;
    const room = path.split("/").map(encodeURIComponent).join("/");
    const provider = new WebsocketProvider(url, room, doc, { params: { token: studioToken() } });
    const ytext = doc.getText(TEXT_NAME);
    const colour = COLOURS[Math.floor(Math.random() * COLOURS.length)];
    provider.awareness.setLocalStateField("user", { name: userName, color: colour, colorLight: colour + "33" });
    const onText = () => setText(ytext.toString());
    const onSync = (isSynced: boolean) => {
      setSynced(isSynced);
      if (isSynced) setText(ytext.toString());
    };
    const onStatus = (event: { status: string }) => setConnected(event.status === "connected");
    const onAwareness = ({ added }: { added: number[] }) => {
      setPeers(provider.awareness.getStates().size);
      // The server relays presence but does not replay it to newcomers: when
      // someone joins, say again who we are so they see us at once.
      if (added.some((id) => id !== doc.clientID)) {
        provider.awareness.setLocalState(provider.awareness.getLocalState());
      }
    };
    ytext.observe(onText);
    provider.on("sync", onSync);
    provider.on("status", onStatus);
    provider.awareness.on("change", onAwareness);
    setShared({ doc, ytext, provider });
    return () => {
      ytext.unobserve(onText);
      provider.off("sync", onSync);
      provider.off("status", onStatus);
      provider.awareness.off("change", onAwareness);
      provider.destroy();
      doc.destroy();
      setShared(null);
    };
  }, [path, userName]);

  return { shared, text: synced ? text : null, synced, connected, peers };
}

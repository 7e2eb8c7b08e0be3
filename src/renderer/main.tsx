/** Browser entry: builds the app from the page's real environment and renders it. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { AppProvider } from './app-context';
import { createApp } from './app-controller';
import { browserAddressBar, copyText, saveBlob, sessionKeyStorage } from './api/browser';
import { desktopClient } from './api/desktop';
import type { SocketLike } from './api/notify-stream';
import './styles.css';

function safeSessionStorage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null;
  }
}

function safeLocalStorage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

const app = createApp({
  origin: window.location.origin,
  addressBar: browserAddressBar(window),
  storage: sessionKeyStorage(safeSessionStorage()),
  desktop: desktopClient(window),
  createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
  onNetworkOnline: (listener) => {
    window.addEventListener('online', listener);
    return () => window.removeEventListener('online', listener);
  },
  copyText,
  saveFile: saveBlob,
  historyStorage: safeLocalStorage(),
});

const rootEl = document.getElementById('root');
if (!rootEl) throw new Error('index.html lacks #root');
createRoot(rootEl).render(
  <StrictMode>
    <AppProvider app={app}>
      <App origin={window.location.origin} />
    </AppProvider>
  </StrictMode>,
);
void app.start();

/**
 * Preload script of the dashboard window (sandboxed, context-isolated). It exposes the desktop
 * bridge and nothing else; fleet data goes over REST/WebSocket (DESIGN.md "One API surface").
 */
import { contextBridge, ipcRenderer } from 'electron';
import { BRIDGE_GLOBAL } from '../shared/desktop-bridge';
import { createBridge } from './bridge';

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, createBridge(ipcRenderer));

/**
 * The device page's ACL tab (PROTOCOL.md 8): one draft ACL edited two ways, the form and the raw
 * JSON, kept in sync (a form edit rewrites the text; a text edit that parses refills the form; one
 * that does not is flagged and blocks saving), saved whole with `POST /devices/:id {"acl"}`. A
 * refused save (an invalid regex: 400 with the hub's code) is shown under the editor.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { DeviceAcl, DeviceObject } from '../../shared/types';
import { toApiError } from '../api/api-error';
import type { DataApi } from '../api/data-api';
import { aclFromForm, aclText, formFromAcl, parseAclText, type AclForm } from '../lib/acl-form';
import type { ActionError } from './devices-store';

export interface DeviceAclState {
  device: string | null;
  /** The ACL as stored on the hub. */
  stored: DeviceAcl;
  /** The ACL being edited (the last valid state of either editor). */
  draft: DeviceAcl;
  form: AclForm;
  text: string;
  textError: string | null;
  dirty: boolean;
  saving: boolean;
  saveError: ActionError | null;
  open(device: DeviceObject): void;
  setField(field: keyof AclForm, value: string): void;
  setText(text: string): void;
  reset(): void;
  save(): Promise<DeviceObject | null>;
  close(): void;
}

export type DeviceAclStore = StoreApi<DeviceAclState>;

export interface DeviceAclDeps {
  api(): DataApi | null;
  onUnauthorized(): void;
}

export function createDeviceAclStore(deps: DeviceAclDeps): DeviceAclStore {
  return createStore<DeviceAclState>()((set, get) => {
    const fromStored = (acl: DeviceAcl): Partial<DeviceAclState> => ({
      stored: acl,
      draft: acl,
      form: formFromAcl(acl),
      text: aclText(acl),
      textError: null,
      dirty: false,
      saveError: null,
    });
    return {
      device: null,
      stored: {},
      draft: {},
      form: formFromAcl({}),
      text: aclText({}),
      textError: null,
      dirty: false,
      saving: false,
      saveError: null,

      open(device) {
        // The same device again (a refresh after a notification): keep an unsaved draft, but
        // take the data queries saved meanwhile in the Data tab unless this draft changed them,
        // so saving here does not put old queries back.
        if (get().device === device.id && get().dirty) {
          const { stored, draft } = get();
          const next: DeviceAcl = { ...draft };
          for (const k of ['data_read', 'data_write'] as const) {
            if (JSON.stringify(draft[k]) !== JSON.stringify(stored[k])) continue;
            if (device.acl[k] === undefined) delete next[k];
            else next[k] = device.acl[k];
          }
          set({
            stored: device.acl,
            draft: next,
            text: get().textError ? get().text : aclText(next),
          });
          return;
        }
        set({ device: device.id, ...fromStored(device.acl) });
      },

      setField(field, value) {
        const form = { ...get().form, [field]: value };
        const draft = aclFromForm(get().draft, form);
        set({ form, draft, text: aclText(draft), textError: null, dirty: true, saveError: null });
      },

      setText(text) {
        const parsed = parseAclText(text);
        if (!parsed.ok) {
          set({ text, textError: parsed.error, dirty: true });
          return;
        }
        set({
          text,
          draft: parsed.acl,
          form: formFromAcl(parsed.acl),
          textError: null,
          dirty: true,
          saveError: null,
        });
      },

      reset: () => set(fromStored(get().stored)),

      async save() {
        const api = deps.api();
        const device = get().device;
        if (!api || device === null || get().saving || get().textError !== null) return null;
        set({ saving: true, saveError: null });
        try {
          const saved = await api.saveAcl(device, get().draft);
          if (get().device === device) set({ saving: false, ...fromStored(saved.acl) });
          return saved;
        } catch (e) {
          const err = toApiError(e);
          if (err.status === 401) deps.onUnauthorized();
          set({ saving: false, saveError: { code: err.code, message: err.message } });
          return null;
        }
      },

      close: () => set({ device: null, saving: false, ...fromStored({}) }),
    };
  });
}

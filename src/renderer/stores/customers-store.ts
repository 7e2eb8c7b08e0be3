/**
 * The Customers page (PROTOCOL.md 4 and 8): the customer list with the devices each one reaches,
 * an invite that shows the sign-in link (no mail server on a LAN: the link is handed to the user
 * to copy or scan), linking and unlinking a device by editing `pubkeys`, and delete. Errors stay
 * where the action was taken: the invite's under its form, a row's on that row.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { toApiError } from '../api/api-error';
import type { CustomerView, CustomersApi, InviteResult } from '../api/customers-api';
import type { ApiClient } from '../api/http-client';
import { withKey, type KeyedDevice } from '../lib/customer-devices';
import type { ActionError } from './devices-store';

export interface CustomersState {
  customers: CustomerView[];
  devices: KeyedDevice[];
  loaded: boolean;
  loading: boolean;
  loadError: string | null;
  inviting: boolean;
  inviteError: ActionError | null;
  invited: InviteResult | null;
  rowErrors: Record<string, ActionError>;
  busy: Record<string, 'link' | 'delete'>;
  refresh(): Promise<void>;
  invite(email: string, appId: string): Promise<boolean>;
  setLinked(customerId: string, key: string, linked: boolean): Promise<boolean>;
  remove(customerId: string): Promise<boolean>;
  clearInvite(): void;
}

export type CustomersStore = StoreApi<CustomersState>;

export interface CustomersDeps {
  api(): CustomersApi | null;
  devices(): ApiClient | null;
  onUnauthorized(): void;
}

/** The device fields the page needs: who a public key opens. */
export const KEYED_DEVICE_FIELDS = ['id', 'name', 'acl.public_key'] as const;

export function createCustomersStore(deps: CustomersDeps): CustomersStore {
  return createStore<CustomersState>()((set, get) => {
    const fail = (e: unknown): ActionError => {
      const err = toApiError(e);
      if (err.status === 401) deps.onUnauthorized();
      return { code: err.code, message: err.message };
    };
    const setRow = (
      id: string,
      error: ActionError | null,
      busy: 'link' | 'delete' | null,
    ): void => {
      const rowErrors = { ...get().rowErrors };
      const b = { ...get().busy };
      if (error) rowErrors[id] = error;
      else delete rowErrors[id];
      if (busy) b[id] = busy;
      else delete b[id];
      set({ rowErrors, busy: b });
    };
    const replace = (c: CustomerView): void =>
      set({ customers: get().customers.map((x) => (x.id === c.id ? c : x)) });

    return {
      customers: [],
      devices: [],
      loaded: false,
      loading: false,
      loadError: null,
      inviting: false,
      inviteError: null,
      invited: null,
      rowErrors: {},
      busy: {},

      async refresh() {
        const api = deps.api();
        const client = deps.devices();
        if (!api || !client) return;
        set({ loading: true });
        try {
          const [customers, devices] = await Promise.all([
            api.listCustomers(),
            client.listDevices(KEYED_DEVICE_FIELDS),
          ]);
          customers.sort((a, b) => a.email.localeCompare(b.email));
          set({
            customers,
            devices: devices.map((d) => ({
              id: d.id,
              name: d.name,
              publicKey: typeof d.acl.public_key === 'string' ? d.acl.public_key : '',
            })),
            loaded: true,
            loading: false,
            loadError: null,
          });
        } catch (e) {
          set({ loading: false, loadError: fail(e).message });
        }
      },

      async invite(email, appId) {
        const api = deps.api();
        if (!api || get().inviting) return false;
        set({ inviting: true, inviteError: null, invited: null });
        try {
          const invited = await api.invite(email.trim(), appId);
          set({ inviting: false, invited });
          await get().refresh();
          return true;
        } catch (e) {
          set({ inviting: false, inviteError: fail(e) });
          return false;
        }
      },

      async setLinked(customerId, key, linked) {
        const api = deps.api();
        const c = get().customers.find((x) => x.id === customerId);
        if (!api || !c) return false;
        setRow(customerId, null, 'link');
        try {
          replace(
            await api.updateCustomer(customerId, { pubkeys: withKey(c.pubkeys, key, linked) }),
          );
          setRow(customerId, null, null);
          return true;
        } catch (e) {
          setRow(customerId, fail(e), null);
          return false;
        }
      },

      async remove(customerId) {
        const api = deps.api();
        if (!api) return false;
        setRow(customerId, null, 'delete');
        try {
          await api.deleteCustomer(customerId);
        } catch (e) {
          // Gone already (deleted elsewhere): the list was stale, not the action wrong.
          if (toApiError(e).status !== 404) {
            setRow(customerId, fail(e), null);
            return false;
          }
        }
        setRow(customerId, null, null);
        set({ customers: get().customers.filter((x) => x.id !== customerId) });
        return true;
      },

      clearInvite: () => set({ invited: null, inviteError: null }),
    };
  });
}

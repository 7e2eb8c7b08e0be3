/**
 * Settings page (issue 12): the hub's own settings, one section each. The LAN services (SNTP and
 * DNS for devices on an offline LAN; lan-section.tsx) and backup and restore (backup-section.tsx)
 * are written and tested by their features; this page only lays them out.
 */
import type { ReactNode } from 'react';
import { BackupSection } from './backup-section';
import { LanSection } from './lan-section';
import './settings.css';

export function SettingsScreen(): ReactNode {
  return (
    <main
      className="page page-settings"
      aria-labelledby="settings-title"
      data-testid="settings-page"
    >
      <div className="toolbar">
        <h1 id="settings-title">Settings</h1>
        <span className="muted">this hub: services for the LAN, backup and restore</span>
      </div>
      <div className="settings-sections">
        <LanSection />
        <BackupSection />
      </div>
    </main>
  );
}

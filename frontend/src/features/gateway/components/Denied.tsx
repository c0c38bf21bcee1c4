/** A control the account's scopes do not allow: shown, disabled, with the reason next to it. */
import type { ReactNode } from 'react';
import type { Permission } from '../../auth/hooks/scopes';

export function DeniedReason({ permission, children }: { permission: Permission; children?: ReactNode }) {
  if (permission.allowed) return null;
  return (
    <span className="muted denied" data-testid="denied-reason">
      {children}
      {permission.reason}
    </span>
  );
}

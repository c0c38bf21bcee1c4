/**
 * The gateway on one page: services and instances (live), traffic splits, rate limits, API keys.
 * Administration needs scope `admin` (all of `/api/gateway/`); without it those sections say so
 * and their controls are disabled with the reason, instead of failing with a 403 on click.
 */
import { useCan } from '../../auth/hooks/scopes';
import { useServices } from '../hooks/useServices';
import { KeysPanel } from './KeysPanel';
import { RateLimitsPanel } from './RateLimitsPanel';
import { ServicesPanel } from './ServicesPanel';
import { SplitsPanel } from './SplitsPanel';

export default function GatewayPage() {
  const live = useServices();
  const admin = useCan('admin');
  return (
    <div className="stack">
      <div className="row">
        <h1>Gateway</h1>
        <a href="/docs" target="_blank" rel="noopener">
          API documentation (/docs) ↗
        </a>
      </div>
      <nav aria-label="Sections" className="row">
        <a href="#services-h">Services</a>
        <a href="#splits-h">Traffic splits</a>
        <a href="#limits-h">Rate limits</a>
        <a href="#keys-h">API keys</a>
      </nav>
      <ServicesPanel live={live} />
      <SplitsPanel services={live.services} permission={admin} />
      <RateLimitsPanel permission={admin} />
      <KeysPanel permission={admin} />
    </div>
  );
}

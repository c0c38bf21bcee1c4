/**
 * Shell: navigation, theme, connection indicator, and the pages — each a lazily loaded chunk, so
 * the first paint only needs React, the shell and the socket client. Behind the access gate: with
 * `AUTH_MODE=required` the sign-in form comes first, and the pages (and the socket) start only
 * once a credential is accepted.
 */
import { Component, lazy, Suspense, useEffect, useState, type ReactNode } from 'react';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { ErrorMessage, Loading } from './components/Status';
import { AccessNotices } from './features/auth/components/AccessNotices';
import { AccountMenu } from './features/auth/components/AccountMenu';
import { AuthGate } from './features/auth/components/AuthGate';
import { Link, usePathname } from './lib/router';

const OverviewPage = lazy(() => import('./features/overview/components/OverviewPage'));
const PricesPage = lazy(() => import('./features/prices/components/PricesPage'));
const ArbitragePage = lazy(() => import('./features/arbitrage/components/ArbitragePage'));
const RulesPage = lazy(() => import('./features/rules/components/RulesPage'));
const LatencyPage = lazy(() => import('./features/latency/components/LatencyPage'));
const TasksPage = lazy(() => import('./features/tasks/components/TasksPage'));
const GatewayPage = lazy(() => import('./features/gateway/components/GatewayPage'));

export const PAGES = [
  { path: '/', label: 'Overview', component: OverviewPage },
  { path: '/prices', label: 'Prices', component: PricesPage },
  { path: '/arbitrage', label: 'Arbitrage', component: ArbitragePage },
  { path: '/rules', label: 'Rules', component: RulesPage },
  { path: '/latency', label: 'Latency', component: LatencyPage },
  { path: '/tasks', label: 'Tasks', component: TasksPage },
  { path: '/gateway', label: 'Gateway', component: GatewayPage },
] as const;

type Theme = 'dark' | 'light';

function initialTheme(): Theme {
  const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('ascep.theme') : null;
  if (stored === 'dark' || stored === 'light') return stored;
  return window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

/** A page that throws shows a message (and a way back), never a blank screen. */
class PageBoundary extends Component<{ children: ReactNode; resetKey: string }, { error: unknown }> {
  state = { error: undefined as unknown };
  static getDerivedStateFromError(error: unknown) {
    return { error };
  }
  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: undefined });
  }
  render() {
    if (this.state.error) {
      return <ErrorMessage error={this.state.error} title="This page failed" onRetry={() => this.setState({ error: undefined })} />;
    }
    return this.props.children;
  }
}

export function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('ascep.theme', theme);
  }, [theme]);
  return (
    <AuthGate>
      <Shell theme={theme} setTheme={setTheme} />
    </AuthGate>
  );
}

function Shell({ theme, setTheme }: { theme: Theme; setTheme: (theme: Theme) => void }) {
  const pathname = usePathname();
  const page = PAGES.find((p) => p.path === pathname) ?? null;
  const Page = page?.component;
  useEffect(() => {
    document.title = `${page?.label ?? 'Not found'} · ASCEP`;
  }, [page]);

  return (
    <div className="app">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <div className="brand">ASCEP</div>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <Link href={p.path} aria-current={p.path === pathname ? 'page' : undefined}>
                  {p.label}
                </Link>
              </li>
            ))}
            <li>
              {/* Served by the gateway itself (Swagger UI), not a page of this app: a real navigation. */}
              <a href="/docs" target="_blank" rel="noopener" data-testid="docs-link">
                API docs ↗
              </a>
            </li>
          </ul>
        </nav>
        <div className="topbar-right">
          <ConnectionIndicator />
          <AccountMenu />
          <button
            type="button"
            className="btn btn-small"
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
            aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
          >
            {theme === 'dark' ? '☀ Light' : '☾ Dark'}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <AccessNotices />
        <PageBoundary resetKey={pathname}>
          <Suspense fallback={<Loading />}>
            {Page ? (
              <Page />
            ) : (
              <section>
                <h1>Page not found</h1>
                <p>
                  No page at <code>{pathname}</code>. <Link href="/">Go to the overview</Link>.
                </p>
              </section>
            )}
          </Suspense>
        </PageBoundary>
      </main>
    </div>
  );
}

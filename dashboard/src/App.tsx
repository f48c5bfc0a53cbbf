import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { BrowserRouter, NavLink, Navigate, Route, Routes } from 'react-router-dom';
import { config } from './config';
import { ApiError } from './graphql/client';
import { HealthIndicator } from './components/HealthIndicator';
import { SearchBox } from './components/SearchBox';
import { TimeRangePicker } from './components/TimeRangePicker';
import { useRangeQueryString } from './lib/hooks';
import { OverviewPage } from './pages/Overview';
import { InvocationsPage } from './pages/Invocations';
import { InvocationDetailPage } from './pages/InvocationDetail';
import { FlowsPage } from './pages/Flows';
import { ChainsPage } from './pages/Chains';
import { AnalyticsPage } from './pages/Analytics';
import { ComparePage } from './pages/Compare';
import { FunnelPage } from './pages/Funnel';
import { ReplaysPage } from './pages/Replays';

export function makeQueryClient() {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        refetchOnWindowFocus: false,
        // permission and validation errors do not go away by retrying
        retry: (count, err) => !(err instanceof ApiError && (err.kind === 'permission' || err.kind === 'graphql')) && count < 2,
      },
    },
  });
}

function Nav() {
  const qs = useRangeQueryString();
  const link = (to: string, label: string) => (
    <NavLink to={`${to}${qs}`} className={({ isActive }) => (isActive ? 'active' : '')}>
      {label}
    </NavLink>
  );
  return (
    <nav className="nav" aria-label="Sections">
      {link('/overview', 'Overview')}
      {link('/invocations', 'Invocations')}
      {link('/flows', 'Event flows')}
      {config.showCorrelationChains ? link('/chains', 'Correlation chains') : null}
      {link('/analytics', 'Analytics')}
      {link('/funnel', 'Detection funnel')}
      {link('/replays', 'Replays')}
    </nav>
  );
}

export function Shell() {
  return (
    <div className="app">
      <header className="header">
        <div className="brand">eventscope</div>
        <Nav />
        <SearchBox />
        <TimeRangePicker />
        <HealthIndicator />
      </header>
      <main className="main">
        <Routes>
          <Route path="/" element={<Navigate to="/overview" replace />} />
          <Route path="/overview" element={<OverviewPage />} />
          <Route path="/invocations" element={<InvocationsPage />} />
          <Route path="/invocations/:id" element={<InvocationDetailPage />} />
          <Route path="/flows" element={<FlowsPage />} />
          <Route path="/flows/:id" element={<FlowsPage />} />
          <Route path="/chains" element={<ChainsPage />} />
          <Route path="/chains/:correlationId" element={<ChainsPage />} />
          <Route path="/analytics" element={<AnalyticsPage />} />
          <Route path="/funnel" element={<FunnelPage />} />
          <Route path="/compare" element={<ComparePage />} />
          <Route path="/replays" element={<ReplaysPage />} />
          <Route path="/replays/:id" element={<ReplaysPage />} />
          <Route path="*" element={<div className="state state-empty"><strong>No such page.</strong></div>} />
        </Routes>
      </main>
      {config.adminSecret ? (
        <div className="secret-warning" role="note">
          This build contains an admin secret (REACT_APP_HASURA_ADMIN_SECRET): anyone who can open it can read it.
        </div>
      ) : null}
    </div>
  );
}

const queryClient = makeQueryClient();

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter>
        <Shell />
      </BrowserRouter>
    </QueryClientProvider>
  );
}

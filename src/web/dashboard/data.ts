// What the Worker tells the dashboard's script in its page: where the API and the dashboard are.
// Written as JSON into <script type="application/json" id="edge402-dashboard"> by
// src/worker/http/dashboard-page.ts, read back here.
export const DASHBOARD_DATA_ID = "edge402-dashboard";

export type DashboardData = {
  /** The API's base path, e.g. /api/1. */
  gatewayPath: string;
  /** The dashboard's own path, e.g. /admin. */
  dashboardPath: string;
};

/** The page's data, or null when the page carries none. */
export function readDashboardData(doc: Document): DashboardData | null {
  const text = doc.getElementById(DASHBOARD_DATA_ID)?.textContent;
  if (!text) return null;
  try {
    const data = JSON.parse(text) as Partial<DashboardData>;
    if (typeof data.gatewayPath !== "string" || typeof data.dashboardPath !== "string") return null;
    return { gatewayPath: data.gatewayPath, dashboardPath: data.dashboardPath };
  } catch {
    return null;
  }
}

import { Link, usePath } from "../router";

const PAGES: [string, string][] = [
  ["/", "Live"],
  ["/history", "History"],
  ["/start", "Start a call"],
  ["/talk", "Talk"],
  ["/flows", "Flows & personas"],
  ["/trunks", "Trunks"],
  ["/audit", "Audit log"],
];

export function Nav({ onLogout }: { onLogout: () => void }) {
  const path = usePath();
  return (
    <nav className="nav">
      <span className="brand">atende</span>
      {PAGES.map(([to, label]) => (
        <Link key={to} to={to} className={path === to ? "active" : undefined}>
          {label}
        </Link>
      ))}
      <button className="link logout" onClick={onLogout}>
        Log out
      </button>
    </nav>
  );
}

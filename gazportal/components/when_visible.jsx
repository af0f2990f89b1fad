// Renders its children only once the wrapper comes into the viewport (IntersectionObserver), so
// a heavy child (a plotly chart: 355 KB gzip of script and its drawing) costs nothing on a page
// load where it stays out of sight. The wrapper keeps its space (min-height) meanwhile.
import { createElement, useEffect, useRef, useState } from "react";

export function WhenVisible({ children, ...props }) {
  const ref = useRef(null);
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const el = ref.current;
    if (shown || !el) return undefined;
    if (typeof IntersectionObserver === "undefined") {
      setShown(true);
      return undefined;
    }
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) {
          setShown(true);
          observer.disconnect();
        }
      },
    );
    observer.observe(el);
    return () => observer.disconnect();
  }, [shown]);
  return createElement("div", { ref, "data-shown": shown ? "true" : "false", ...props }, shown ? children : null);
}

#!/usr/bin/python3
"""Checks a tracectl flame graph SVG in a real (headless) Chromium.

Usage: check_flame_svg.py SVG_FILE SEARCH_TERM [--expect-percent P --tolerance T]

Opens file://SVG_FILE through chromedriver and drives it with real mouse and
keyboard events:
  (a) frames are drawn, and a frame named SEARCH_TERM has a visible width;
  (b) hovering that frame puts its name in the details line;
  (c) the Search control (its prompt answered with SEARCH_TERM, matched
      literally) highlights the frames named SEARCH_TERM and shows
      "Matched: X%"; with --expect-percent, X is within --tolerance of P;
  (d) clicking the frame zooms it to the full width;
  (e) Reset Zoom gives it back its first width;
  (f) Clear removes the highlight and the matched line.
Prints one line per check; exits 0 only if every check passed, else 1.

Run it with Debian's /usr/bin/python3 (python3-selenium); it needs
/usr/bin/chromium and /usr/bin/chromedriver (chromium, chromium-driver).
"""

import argparse
import os
import re
import shutil
import signal
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
TIME_LIMIT_SECONDS = 55
SVG_NS = "{http://www.w3.org/2000/svg}"


class CheckFailed(Exception):
    pass


def on_alarm(signum, frame):
    raise CheckFailed(f"timed out after {TIME_LIMIT_SECONDS} s")


def passed(check, message):
    print(f"PASS ({check}) {message}", flush=True)


def js_literal_pattern(text):
    """A JavaScript regular expression source matching `text` literally."""
    return re.sub(r"[\\^$.*+?()\[\]{}|/]", lambda m: "\\" + m.group(0), text)


def static_checks(svg_path, term):
    """The file is well-formed XML with frames, one of them named `term`."""
    try:
        root = ElementTree.parse(svg_path).getroot()
    except (ElementTree.ParseError, OSError) as e:
        raise CheckFailed(f"{svg_path} is not well-formed XML: {e}")
    if root.tag != SVG_NS + "svg":
        raise CheckFailed(f"root element is {root.tag}, not an SVG <svg>")
    frames = [g for g in root.iter(SVG_NS + "g")
              if "frame" in g.get("class", "").split()]
    named = [g for g in frames if g.get("data-name") == term]
    if not frames:
        raise CheckFailed("the SVG has no <g class=\"frame\"> elements")
    if not named:
        raise CheckFailed(f"no frame in the SVG is named {term!r}")
    height = float(root.get("height", "800"))
    return len(frames), height


def start_browser(profile_dir, window_height):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as e:
        raise CheckFailed(f"selenium is not importable ({e}); "
                          "install python3-selenium and use /usr/bin/python3")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            raise CheckFailed(f"{path} is missing (install chromium and "
                              "chromium-driver, see deploy/install-deps.sh)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    # No network here: these keep Chromium from waiting on connections.
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage",
                 f"--user-data-dir={profile_dir}/profile",
                 f"--window-size=1300,{window_height}"):
        options.add_argument(flag)
    service = Service(CHROMEDRIVER,
                      log_path=os.path.join(profile_dir, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(10)
    return driver


def run_checks(driver, svg_path, term, args):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    def wait_for(condition, what, seconds=5):
        try:
            return WebDriverWait(driver, seconds, poll_frequency=0.05).until(
                lambda d: condition())
        except TimeoutException:
            raise CheckFailed(what)

    def text_of(element_id):
        return driver.execute_script(
            "var e = document.getElementById(arguments[0]);"
            "return e ? e.textContent : null;", element_id)

    def rect_of(frame):
        return frame.find_element(By.CSS_SELECTOR, "rect")

    def width_of(frame):
        return driver.execute_script(
            "return arguments[0].querySelector('rect')"
            ".getBoundingClientRect().width;", frame)

    def fills_of(frames):
        return driver.execute_script(
            "return arguments[0].map("
            "g => getComputedStyle(g.querySelector('rect')).fill);", frames)

    def into_view(element):
        driver.execute_script(
            "arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
            element)

    def click(element):
        into_view(element)
        ActionChains(driver).move_to_element(element).click().perform()

    driver.get(Path(svg_path).resolve().as_uri())

    # (a) Frames are drawn; the widest frame named `term` is visible.
    frame_count = driver.execute_script(
        "return document.querySelectorAll('g.frame').length;")
    if not frame_count:
        raise CheckFailed("(a) the browser shows no g.frame elements "
                          "(did the SVG load, or is it an XML error page?)")
    # The frames named `term`, widest first.
    named = driver.execute_script(
        "var width = g => g.querySelector('rect').getBoundingClientRect().width;"
        "return Array.from(document.querySelectorAll('g.frame'))"
        ".filter(g => g.getAttribute('data-name') === arguments[0])"
        ".sort((a, b) => width(b) - width(a));", term)
    if not named:
        raise CheckFailed(f"(a) no g.frame with data-name={term!r}")
    target = named[0]
    target_width = width_of(target)
    if not target_width > 0:
        raise CheckFailed(f"(a) the frame {term!r} has no width")
    root = driver.find_element(By.CSS_SELECTOR, 'g.frame[data-depth="0"]')
    full_width = width_of(root)
    def other_fills():
        """The fills of the frames whose names do not contain `term`."""
        return driver.execute_script(
            "return Array.from(document.querySelectorAll('g.frame'))"
            ".filter(g => !g.getAttribute('data-name').includes(arguments[0]))"
            ".map(g => getComputedStyle(g.querySelector('rect')).fill);",
            term)

    passed("a", f"{frame_count} frames drawn; {term!r} is "
           f"{target_width:.1f} px wide of {full_width:.1f} px")

    # (b) Hovering shows the frame in the details line.
    before = text_of("details")
    into_view(target)
    ActionChains(driver).move_to_element(rect_of(target)).perform()
    wait_for(lambda: term in (text_of("details") or ""),
             f"(b) after hovering {term!r} the details line says "
             f"{text_of('details')!r} (before: {before!r})")
    passed("b", f"hover: details line is {text_of('details')!r}")

    # (c) Search through the control and its prompt.
    fills_before = fills_of(named)
    other_fills_before = other_fills()
    click(driver.find_element(By.ID, "search"))
    try:
        WebDriverWait(driver, 5).until(expected_conditions.alert_is_present())
    except TimeoutException:
        raise CheckFailed("(c) clicking Search opened no prompt")
    alert = driver.switch_to.alert
    alert.send_keys(js_literal_pattern(term))
    alert.accept()
    wait_for(lambda: (text_of("matched") or "").startswith("Matched"),
             f"(c) after searching, the matched line says "
             f"{text_of('matched')!r}")
    fills_after = fills_of(named)
    unchanged = [i for i, (a, b) in enumerate(zip(fills_before, fills_after))
                 if a == b]
    if unchanged:
        raise CheckFailed(f"(c) {len(unchanged)} of {len(named)} frames named "
                          f"{term!r} kept their fill {fills_before[0]}")
    other_fills_after = other_fills()
    if other_fills_after != other_fills_before:
        raise CheckFailed(f"(c) frames not matching {term!r} changed fill too")
    matched_text = text_of("matched")
    found = re.search(r"Matched:\s*([0-9]+(?:\.[0-9]+)?)%", matched_text)
    if not found:
        raise CheckFailed(f"(c) the matched line {matched_text!r} shows no "
                          "percentage")
    percent = float(found.group(1))
    if args.expect_percent is not None:
        if abs(percent - args.expect_percent) > args.tolerance:
            raise CheckFailed(
                f"(c) matched {percent}%, expected {args.expect_percent}% "
                f"± {args.tolerance}")
    passed("c", f"search: {len(named)} frame(s) {fills_before[0]} -> "
           f"{fills_after[0]}; {matched_text!r}")

    # (d) Clicking the frame zooms it to the full width.
    click(rect_of(target))
    wait_for(lambda: abs(width_of(target) - full_width) < 1,
             f"(d) after clicking {term!r} it is {width_of(target):.1f} px "
             f"wide, not the full {full_width:.1f} px")
    # Frames beside it are gone; its callers (down to "all") still span it.
    beside = driver.execute_script(
        "var t = arguments[0], x = +t.getAttribute('data-x'),"
        "    end = x + +t.getAttribute('data-samples');"
        "return Array.from(document.querySelectorAll('g.frame')).filter(g => {"
        "  var gx = +g.getAttribute('data-x');"
        "  return gx >= end || gx + +g.getAttribute('data-samples') <= x;"
        "}).map(g => g.getBoundingClientRect().width);", target)
    shown = [w for w in beside if w > 0]
    if shown:
        raise CheckFailed(f"(d) after the zoom {len(shown)} of {len(beside)} "
                          "frames beside the zoomed one are still drawn")
    if abs(width_of(root) - full_width) >= 1:
        raise CheckFailed(f"(d) after the zoom the root is "
                          f"{width_of(root):.1f} px wide, not {full_width:.1f}")
    passed("d", f"zoom: {term!r} is {width_of(target):.1f} px wide; "
           f"{len(beside)} frames beside it hidden")

    # (e) Reset Zoom restores it.
    click(driver.find_element(By.ID, "reset-zoom"))
    wait_for(lambda: abs(width_of(target) - target_width) < 0.5,
             f"(e) after Reset Zoom {term!r} is {width_of(target):.1f} px "
             f"wide, not {target_width:.1f} px")
    drawn = driver.execute_script(
        "return Array.from(document.querySelectorAll('g.frame'))"
        ".filter(g => g.getBoundingClientRect().width > 0).length;")
    if drawn != frame_count:
        raise CheckFailed(f"(e) after Reset Zoom only {drawn} of "
                          f"{frame_count} frames are drawn")
    passed("e", f"reset zoom: {term!r} is {width_of(target):.1f} px wide "
           f"again; all {drawn} frames drawn")

    # (f) Clear removes the highlight.
    click(driver.find_element(By.ID, "clear-search"))
    wait_for(lambda: fills_of(named) == fills_before
             and not text_of("matched"),
             f"(f) after Clear the fills are {fills_of(named)} "
             f"(first {fills_before}) and the matched line is "
             f"{text_of('matched')!r}")
    passed("f", "clear search: fills restored, matched line empty")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("svg_file")
    parser.add_argument("search_term")
    parser.add_argument("--expect-percent", type=float)
    parser.add_argument("--tolerance", type=float, default=0.01)
    args = parser.parse_args()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(TIME_LIMIT_SECONDS)
    profile_dir = tempfile.mkdtemp(prefix="check_flame_svg.")
    driver = None
    try:
        frame_count, height = static_checks(args.svg_file, args.search_term)
        print(f"PASS (xml) well-formed SVG with {frame_count} frames",
              flush=True)
        driver = start_browser(profile_dir,
                               int(min(max(height + 150, 700), 3000)))
        run_checks(driver, args.svg_file, args.search_term, args)
    except CheckFailed as e:
        print(f"FAIL {e}", flush=True)
        log = os.path.join(profile_dir, "chromedriver.log")
        if driver is None and os.path.exists(log):
            print("chromedriver log (tail):", file=sys.stderr)
            with open(log, errors="replace") as f:
                sys.stderr.write("".join(f.readlines()[-20:]))
        return 1
    except Exception as e:  # Selenium and WebDriver errors.
        print(f"FAIL {type(e).__name__}: {e}".rstrip(), flush=True)
        return 1
    finally:
        signal.alarm(0)
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        shutil.rmtree(profile_dir, ignore_errors=True)
    print("all checks passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

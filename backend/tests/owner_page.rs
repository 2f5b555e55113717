//! The owner page after a demo delivery: served as HTML, and shown by headless Chromium
//! (Debian's `chromium`, installed by `.ci/run`) with the visit and the alert in plain words.
//! Without a browser the Chromium half says so loudly and skips, unless
//! `DOORKEY_REQUIRE_CHROMIUM=1`, when it fails.

mod common;

use common::Server;
use doorkey_backend::api::Limits;

const VISIT: &str = "delivered by Parcel Co for order order-0042, unlocked at ";
const RELOCKED: &str = "door opened 4 s later, door open for 34 s, relocked after 45 s";
const ALERT: &str = "an attempt was refused: the credential was already used up";

fn browser() -> Option<&'static str> {
    ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_page_shows_the_visit_and_the_alert() {
    let s = Server::sqlite(Limits::default()).await;
    let ending = common::delivery_story(&s).await;

    let page = s.get(&ending.owner_page, None).await;
    assert_eq!(page.status, 200);
    let html = String::from_utf8(page.body).unwrap();
    for text in [VISIT, RELOCKED, ALERT, "<h2>Front door</h2>"] {
        assert!(html.contains(text), "{text:?} not in {html}");
    }
    let forged = format!("/owner/{}", hex::encode([1u8; 32]));
    assert_eq!(s.get(&forged, None).await.status, 404);

    let Some(browser) = browser() else {
        let message = "\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\
                       !! SKIPPED: the owner page was NOT loaded in a browser: no chromium.\n\
                       !! (apt-get install chromium; .ci/run does.)\n\
                       !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n";
        assert!(
            std::env::var_os("DOORKEY_REQUIRE_CHROMIUM").is_none(),
            "{message}"
        );
        eprintln!("{message}");
        return;
    };
    let url = format!("http://{}{}", s.client.addr, ending.owner_page);
    let profile = common::TempDir::new("chromium");
    let out = tokio::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.0.display()))
        .args(["--dump-dom", &url])
        .output()
        .await
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    for text in [VISIT, RELOCKED, ALERT] {
        assert!(
            dom.contains(text),
            "{text:?} not in the page Chromium rendered: {dom}"
        );
    }
    assert!(
        dom.contains("<ul class=\"visits\"><li>delivered by Parcel Co"),
        "{dom}"
    );
    assert!(
        dom.contains("<ul class=\"alerts\"><li>an attempt was refused"),
        "{dom}"
    );
}

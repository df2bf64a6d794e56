use std::collections::HashSet;

use crate::support::Client;

async fn seed(c: &Client, n: usize) {
    for i in 0..n {
        c.user(&format!("page.user.{i:03}")).await;
    }
}

#[tokio::test]
async fn index_pagination_edge_cases() {
    let c = Client::new().await;
    seed(&c, 7).await;
    let r = c.get("/Users?startIndex=1&count=3").await;
    assert_eq!(
        (r.body["totalResults"].as_u64(), r.body["itemsPerPage"].as_u64(), r.body["startIndex"].as_u64()),
        (Some(7), Some(3), Some(1))
    );
    // count=0: only the total (RFC 7644 §3.4.2.4).
    let r = c.get("/Users?count=0").await;
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["Resources"].as_array().map(Vec::len), Some(0));
    // startIndex < 1 is read as 1; a negative count as 0.
    let r = c.get("/Users?startIndex=-5&count=2").await;
    assert_eq!(r.body["startIndex"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], "page.user.000");
    assert_eq!(c.get("/Users?count=-1").await.body["itemsPerPage"], 0);
    // Past the end: empty page, same total.
    let r = c.get("/Users?startIndex=100").await;
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["itemsPerPage"], 0);
    // More than the advertised maximum is clamped to it.
    assert_eq!(c.get("/Users?count=100000").await.body["itemsPerPage"], 7);
    c.get("/Users?count=abc").await.assert_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn paging_never_repeats_or_skips_even_while_users_are_added() {
    let c = Client::new().await;
    seed(&c, 25).await;
    let mut seen = HashSet::new();
    let mut start = 1;
    loop {
        let r = c.get(&format!("/Users?startIndex={start}&count=10")).await;
        let page = r.body["Resources"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            break;
        }
        for u in &page {
            assert!(seen.insert(u["id"].as_str().unwrap_or_default().to_owned()), "repeated {u}");
        }
        start += page.len();
    }
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn cursor_pagination() {
    let c = Client::new().await;
    seed(&c, 5).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = c.get(&format!("/Users?cursor={cursor}&count=2")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.body["totalResults"].as_u64().is_some_and(|t| t >= 5));
        for u in r.body["Resources"].as_array().into_iter().flatten() {
            seen.push(u["userName"].as_str().unwrap_or_default().to_owned());
        }
        match r.body["nextCursor"].as_str() {
            Some(n) => {
                cursor = n.to_owned();
                // A user added mid-iteration does not disturb the pages.
                if seen.len() == 2 {
                    c.user("page.user.late").await;
                }
            }
            None => break,
        }
    }
    assert_eq!(&seen[..5], ["page.user.000", "page.user.001", "page.user.002", "page.user.003", "page.user.004"]);
    c.get("/Users?cursor=garbage&count=2").await.assert_error(400, Some("invalidCursor"));
    let r =
        c.get("/Users?cursor=&count=2&filter=userName%20sw%20%22page%22&sortBy=userName&sortOrder=descending").await;
    assert_eq!(r.body["Resources"][0]["userName"], "page.user.late");
    assert!(r.body["nextCursor"].is_string());
}

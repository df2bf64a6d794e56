use serde_json::json;

use crate::support::{Client, id};

async fn names(c: &Client, query: &str) -> Vec<String> {
    let r = c.get(&format!("/Users?{query}")).await;
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.body["Resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|u| u["userName"].as_str().map(str::to_owned))
        .collect()
}

fn q(filter: &str) -> String {
    format!("filter={}", percent(filter))
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn filters_over_http() {
    let c = Client::new().await;
    for (n, title, dept) in
        [("bjensen", Some("Tour Guide"), "Sales"), ("jsmith", None, "R&D"), ("Jdoe", Some("Boss"), "Sales")]
    {
        let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "userName": n, "emails": [{"value": format!("{n}@example.com"), "type": "work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": dept}});
        if let Some(t) = title {
            u["title"] = json!(t);
        }
        assert_eq!(c.post("/Users", &u).await.status, 201);
    }
    assert_eq!(names(&c, &q("userName eq \"BJENSEN\"")).await, ["bjensen"]);
    assert_eq!(names(&c, &q("userName sw \"j\"")).await, ["jsmith", "Jdoe"]);
    assert_eq!(names(&c, &q("title pr")).await, ["bjensen", "Jdoe"]);
    assert_eq!(names(&c, &q("not (title pr)")).await, ["jsmith"]);
    assert_eq!(names(&c, &q("emails[type eq \"work\" and value co \"smith\"]")).await, ["jsmith"]);
    assert_eq!(
        names(&c, &q("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"sales\" and userName ew \"E\"")).await,
        ["Jdoe"]
    );
    assert_eq!(names(&c, &q("userName eq \"jsmith\" or title eq \"boss\"")).await, ["jsmith", "Jdoe"]);
    assert_eq!(names(&c, &q("meta.created gt \"2000-01-01T00:00:00Z\"")).await.len(), 3);
    // Entra's connection test: a filter on a random GUID is a 200 with an empty list.
    let r = c.get(&format!("/Users?{}", q("userName eq \"8e4f1d4e-3b3a-4c0e-9a7d-2f6b6f2f9c11\""))).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(r.body["Resources"], json!([]));
}

#[tokio::test]
async fn sorting_both_ways_with_missing_values_last_ascending() {
    let c = Client::new().await;
    for (n, title) in [("b", Some("m")), ("a", None), ("c", Some("a"))] {
        let mut u = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": n});
        if let Some(t) = title {
            u["title"] = json!(t);
        }
        c.post("/Users", &u).await;
    }
    assert_eq!(names(&c, "sortBy=userName").await, ["a", "b", "c"]);
    assert_eq!(names(&c, "sortBy=userName&sortOrder=descending").await, ["c", "b", "a"]);
    assert_eq!(names(&c, "sortBy=title").await, ["c", "b", "a"]);
    assert_eq!(names(&c, "sortBy=title&sortOrder=descending").await, ["a", "b", "c"]);
    assert_eq!(names(&c, "sortBy=emails").await.len(), 3);
}

#[tokio::test]
async fn post_search_per_type_and_at_the_root() {
    let c = Client::new().await;
    let u = c.user("searcher").await;
    c.group("Searchers", &[&id(&u)]).await;
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "userName eq \"searcher\"",
        "attributes": ["userName"], "startIndex": 1, "count": 10});
    let r = c.post("/Users/.search", &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 1);
    assert!(r.body["Resources"][0].get("emails").is_none());
    let r = c
        .post(
            "/.search",
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "meta.created pr"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["totalResults"], 2);
    let r = c.post("/.search", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "displayName eq \"Searchers\""})).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.text);
}

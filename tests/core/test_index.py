"""The public home page."""


def test_home_explains_and_offers_a_code_box(client):
    html = client.get("/").get_data(as_text=True)
    assert "quét mã QR" in html and "ẩn danh" in html
    assert 'name="code"' in html


def test_home_leads_to_the_feedback_pages_and_every_public_page_leads_home(client):
    html = client.get("/").get_data(as_text=True)
    for url in ("/feedback/", "/feedback/track", "/feedback/answers"):
        assert f'href="{url}"' in html, url
        assert client.get(url).status_code == 200, url
        assert '<a class="brand" href="/">' in client.get(url).get_data(as_text=True), url


def test_typed_code_redirects_to_the_survey_as_web(client):
    reply = client.get("/?code=ab c234")
    assert reply.status_code == 303
    assert reply.headers["Location"].endswith("/s/ABC234?via=web")


def test_invalid_code_is_400_with_a_message(client):
    reply = client.get("/?code=%3Cscript%3E")
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert "Mã quầy gồm 3 đến 16 chữ cái" in html
    assert "<script>" not in html

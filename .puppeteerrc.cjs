// Puppeteer must not download its own browser (no network here): tests use Debian's /usr/bin/chromium.
module.exports = { skipDownload: true };

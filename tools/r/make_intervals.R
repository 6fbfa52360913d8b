# The presentation intervals of ANALYSIS.md (revised December 2026), evaluated in R.
#
#   Rscript tools/r/make_intervals.R           (from the repository root)
#
# Needs: apt-get install -y --no-install-recommends r-base-core r-cran-jsonlite
#
# Reads tests/analysis/fixtures/golden_r.json (R's survey package estimates,
# variances, domain sizes, dfs and Kish sizes; tools/r/make_fixtures.R) and
# writes tests/analysis/fixtures/golden_intervals.json: for every block of
# every design, group and agency x month domain, the intervals and one-sided
# p values that analysis/ must report, computed here from R's own numbers with
# R's qt/pt/qbeta/pbeta:
#
#   items (binary outcomes, Q0 included)
#     beta    Korn-Graubard with n_use = min(n_eff, n_d):
#             n* = n_use (t_{n_d-1,a/2} / t_{df,a/2})^2, x* = n* p
#     logit   expit(logit p -+ t_{df} SE / (p(1-p))), tests F_t(T; df)
#     wilson  score interval with t_{df} and n_use, tests F_t(Z; df)
#   composite and elements (means of several items)
#     logit-t expit(logit I -+ t_{df} SE / (I(1-I))), tests F_t(T; df)
#   at 0 or 1, or with zero variance: Clopper-Pearson with n_kish (any kind)
#   df < 1 or n_d < 2: no interval
#
# The tests read the JSON; R is not needed to run them.

suppressPackageStartupMessages(library(jsonlite))

fixtures <- file.path("tests", "analysis", "fixtures")
golden <- fromJSON(file.path(fixtures, "golden_r.json"), simplifyVector = FALSE)
alpha <- golden$meta$alpha
p0 <- golden$meta$p0
eps <- 1e-12

num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

beta_ci <- function(x, n) {
  lo <- if (x > 0) qbeta(alpha / 2, x, n - x + 1) else 0
  hi <- if (x < n) qbeta(1 - alpha / 2, x + 1, n - x) else 1
  pb <- if (x < n) pbeta(p0, x + 1, n - x, lower.tail = FALSE) else 1
  pa <- if (x > 0) pbeta(p0, x, n - x + 1) else 1
  list(ci = c(lo, hi), p_below = pb, p_above = pa)
}

none <- list(ci = c(NA_real_, NA_real_), p_below = NA_real_, p_above = NA_real_)

intervals <- function(b, binary) {
  est <- num(b$index)
  var <- num(b$variance)
  nd <- num(b$n)
  df <- num(b$df)
  n_kish <- num(b$n_kish)
  out <- list(n_use = NA_real_)
  methods <- if (binary) c("beta", "logit", "wilson") else c("logit_t")
  for (m in methods) out[[m]] <- none
  if (!is.null(b$error) || is.na(est)) return(out)
  n_eff <- est * (1 - est) / var
  boundary <- est <= eps || est >= 1 - eps
  zero_var <- !boundary && (is.na(n_eff) || n_eff < 0 || n_eff > 1e15)
  out$n_use <- if (boundary || zero_var) n_kish else min(n_eff, nd)
  if (is.na(df) || df < 1 || nd < 2) return(out)
  if (boundary || zero_var) {
    x <- if (est <= eps) 0 else if (est >= 1 - eps) n_kish else n_kish * est
    cp <- beta_ci(x, n_kish)
    for (m in methods) out[[m]] <- cp
    return(out)
  }
  se <- sqrt(var)
  t <- qt(1 - alpha / 2, df)
  tstat <- (qlogis(est) - qlogis(p0)) * est * (1 - est) / se
  logit <- list(ci = plogis(qlogis(est) + c(-1, 1) * t * se / (est * (1 - est))),
                p_below = pt(tstat, df), p_above = pt(tstat, df, lower.tail = FALSE))
  if (!binary) {
    out$logit_t <- logit
    return(out)
  }
  n_use <- out$n_use
  n_star <- n_use * (qt(alpha / 2, nd - 1) / qt(alpha / 2, df))^2
  out$beta <- beta_ci(n_star * est, n_star)
  out$beta$n_star <- n_star
  out$logit <- logit
  centre <- (est + t^2 / (2 * n_use)) / (1 + t^2 / n_use)
  half <- t * sqrt(est * (1 - est) / n_use + t^2 / (4 * n_use^2)) / (1 + t^2 / n_use)
  z <- (est - p0) / sqrt(p0 * (1 - p0) / n_use)
  out$wilson <- list(ci = c(centre - half, centre + half),
                     p_below = pt(z, df), p_above = pt(z, df, lower.tail = FALSE))
  out
}

group_intervals <- function(g) {
  res <- list(composite = intervals(g$composite, FALSE))
  if (!is.null(g$elements)) res$elements <- lapply(g$elements, intervals, binary = FALSE)
  res$items <- lapply(g$items, intervals, binary = TRUE)
  res
}

result <- list(
  meta = list(r_version = R.version.string, alpha = alpha, p0 = p0,
              source = "golden_r.json (tools/r/make_fixtures.R)"),
  designs = list()
)
for (name in names(golden$designs)) {
  des <- golden$designs[[name]]
  out <- list(groups = lapply(des$groups, group_intervals),
              overall = group_intervals(des$overall))
  if (!is.null(des$months)) out$months <- lapply(des$months, group_intervals)
  result$designs[[name]] <- out
}
write_json(result, file.path(fixtures, "golden_intervals.json"), digits = I(17),
           auto_unbox = TRUE, na = "null", null = "null")
cat("wrote", file.path(fixtures, "golden_intervals.json"), "\n")

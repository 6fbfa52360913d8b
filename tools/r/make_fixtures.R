# Golden fixtures for analysis/: R's survey package on a small, deterministic data set.
#
#   Rscript tools/r/make_fixtures.R            (from the repository root)
#
# Needs: apt-get install -y --no-install-recommends r-base-core r-cran-survey \
#          r-cran-jsonlite r-cran-mass
#
# Writes, under tests/analysis/fixtures/:
#   golden_responses.csv  the responses (generated here with a fixed seed)
#   golden_cells.csv      post-stratification totals per agency x procedure field
#                         (with coverage gaps: cells with volume, no response)
#   golden_margins.csv    raking margins (agency totals, procedure-field totals)
#   golden_r.json         R's estimates, SEs, dfs, intervals and weights
#
# The tests read these files; R is not needed to run them. Re-run this script
# only when the data set or the designs change, and commit its outputs.
#
# How each number is obtained (ANALYSIS.md):
#   item index        svyciprop(~sat, subset(design, agency == a & answered),
#                     method = "beta") (and "logit"); SE from its "var"
#                     attribute; df = degf(subset)
#   element/composite svyratio(~s_i + ..., ~a_i + ..., subset(design, agency == a
#                     & answered at least one of the items), covmat = TRUE)
#                     then svycontrast with coefficients k_i on the ratios
#                     s_i/a_i; items nobody answered in the domain are dropped
#                     (R would give NaN) and element weights renormalised,
#                     exactly as analysis/ does
#   spec interval     the Korn-Graubard formula of ANALYSIS.md evaluated in R
#                     (qt, qbeta, pbeta) from R's estimate and variance with
#                     n_d = domain size. svyciprop itself uses nrow(design),
#                     which for a calibrated design's subset() is the full
#                     sample size, not n_d; both are stored.

suppressPackageStartupMessages({
  library(survey)
  library(jsonlite)
})
options(survey.lonely.psu = "fail", warn = 1)

out_dir <- file.path("tests", "analysis", "fixtures")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# ---------------------------------------------------------------- the data
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
set.seed(20240315)

items <- c("Q0", "A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4",
           "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3",
           "E1", "E2", "E3", "E4")
elements <- list(A = c("A1", "A2", "A3", "A4"), B = c("B1", "B2", "B3", "B4"),
                 C = c("C1", "C2", "C3", "C4", "C5", "C6"), D = c("D1", "D2", "D3"),
                 E = c("E1", "E2", "E3", "E4"))
element_weight <- c(A = 1, B = 1, C = 1, D = 1, E = 1)
comp_items <- unlist(elements, use.names = FALSE)

# agency: size, satisfaction propensity, special case
agencies <- data.frame(
  agency = sprintf("AG%02d", 1:9),
  n = c(160, 120, 60, 45, 1, 2, 40, 35, 50),
  sat = c(0.80, 0.93, 0.75, 0.85, 0.90, 0.60, 1.00, 0.00, 0.88),
  stringsAsFactors = FALSE
)
strata_labels <- c("S1", "S2", "S3", "S4")
fields <- c("F1", "F2", "F3")

rows <- list()
rid <- 0
for (k in seq_len(nrow(agencies))) {
  ag <- agencies$agency[k]
  n <- agencies$n[k]
  # clusters (counter-days) of 2-8 responses; cluster labels restart in every
  # stratum, so the same label in two strata is two PSUs (nest = TRUE)
  if (n == 1) {
    size <- 1
  } else if (n == 2) {
    size <- c(1, 1)
  } else {
    size <- integer(0)
    while (sum(size) < n) size <- c(size, sample(2:8, 1))
    size[length(size)] <- size[length(size)] - (sum(size) - n)
    size <- size[size > 0]
  }
  cl_stratum <- if (n == 2) c("S3", "S3") else sample(strata_labels, length(size), replace = TRUE)
  cl_label <- sprintf("C%d", sample(1:40, length(size)))
  stratum <- rep(cl_stratum, size)
  cluster <- rep(cl_label, size)
  field <- if (n <= 2) rep("F1", n) else sample(fields, n, replace = TRUE, prob = c(.5, .3, .2))
  weight <- round(c(F1 = 1, F2 = 1.5, F3 = 2.5)[field] * runif(n, 0.6, 1.4), 3)
  latent <- runif(n)
  for (i in seq_len(n)) {
    rid <- rid + 1
    p <- agencies$sat[k]
    # answers: satisfied (4/5) with probability p (shifted per person), else 1-3
    pr <- min(max(p + (latent[i] - 0.5) * 0.3, 0), 1)
    if (p == 1) pr <- 1
    if (p == 0) pr <- 0
    ans <- ifelse(runif(length(items)) < pr, sample(4:5, length(items), TRUE),
                  sample(1:3, length(items), TRUE))
    na <- runif(length(items)) < 0.12
    na[1] <- FALSE                               # Q0 is answered by everyone
    ans[na] <- NA
    if (ag == "AG03") ans[items == "A4"] <- NA  # an item nobody answered
    if (ag == "AG04") ans[items %in% elements$E] <- NA  # an element nobody answered
    if (ag == "AG09" && i %% 3 == 0) ans[-1] <- NA       # one-tap-only respondents
    names(ans) <- items
    rows[[rid]] <- data.frame(
      response_id = sprintf("R%04d", rid), agency = ag,
      # spread over ~2 reporting months, agencies interleaved (no RNG used)
      submitted_at = format(as.POSIXct("2024-02-20 01:00:00", tz = "UTC") +
                              ((rid * 7919) %% 541) * 9000,
                            "%Y-%m-%dT%H:%M:%SZ", tz = "UTC"),
      stratum = stratum[i], cluster = cluster[i], weight = weight[i],
      counter = sprintf("%s-K%d", ag, 1 + (i %% 2)), procedure_field = field[i],
      t(ans), stringsAsFactors = FALSE, check.names = FALSE
    )
  }
}
d <- do.call(rbind, rows)
# the n = 2 agency must not be two identical respondents (V = 0 inside (0, 1))
d[d$agency == "AG06", items] <- rbind(
  c(4, 5, 2, 4, NA, 4, 4, 2, 5, 4, 5, 1, 4, 4, 5, 2, 4, 4, 5, 4, 3, 4),
  c(2, 4, 4, 1, 5, 3, 5, 4, 2, 4, 2, 5, 5, 4, 3, 4, 1, 5, 4, 2, 4, NA))
write.csv(d, file.path(out_dir, "golden_responses.csv"), row.names = FALSE, na = "")

# post-stratification totals: every agency x field, volumes ~ 6-20x the sample
cells <- expand.grid(procedure_field = fields, agency = agencies$agency,
                     stringsAsFactors = FALSE)[, c("agency", "procedure_field")]
cnt <- table(factor(paste(d$agency, d$procedure_field), levels = paste(cells$agency, cells$procedure_field)))
cells$total <- ifelse(cnt > 0, as.integer(round(as.vector(cnt) * runif(nrow(cells), 6, 20))),
                      as.integer(round(runif(nrow(cells), 5, 40))))  # gaps get volume too
write.csv(cells, file.path(out_dir, "golden_cells.csv"), row.names = FALSE)

# raking margins: agency totals and field totals with the same grand total,
# within a factor of about 2 of the weighted sample (R's Newton raking diverges
# from far-off starting points; the module's IPF does not care)
ag_tot <- round(tapply(d$weight, d$agency, sum) * runif(nrow(agencies), 0.6, 1.6), 2)
fd_tot <- tapply(d$weight, d$procedure_field, sum) * runif(3, 0.8, 1.25)
fd_tot <- round(fd_tot / sum(fd_tot) * sum(ag_tot), 2)
fd_tot[1] <- sum(ag_tot) - sum(fd_tot[-1])
margins <- rbind(data.frame(margin = "agency", level = names(ag_tot), total = as.vector(ag_tot)),
                 data.frame(margin = "procedure_field", level = names(fd_tot), total = as.vector(fd_tot)))
write.csv(margins, file.path(out_dir, "golden_margins.csv"), row.names = FALSE)

# ---------------------------------------------------------------- designs
d <- read.csv(file.path(out_dir, "golden_responses.csv"), stringsAsFactors = FALSE,
              colClasses = c(response_id = "character", cluster = "character"))
for (it in items) {
  d[[paste0("a_", it)]] <- as.numeric(!is.na(d[[it]]))
  d[[paste0("s_", it)]] <- as.numeric(!is.na(d[[it]]) & d[[it]] >= 4)
}
d$psu <- paste(d$stratum, d$cluster, sep = "/")
d$cell <- paste(d$agency, d$procedure_field, sep = "/")
d$w_equal <- 2.5
# reporting month: local time (UTC+7), the 15th starts the next month's period
local <- as.POSIXlt(as.POSIXct(d$submitted_at, format = "%Y-%m-%dT%H:%M:%SZ", tz = "UTC") +
                      7 * 3600, tz = "UTC")
month_index <- (local$year + 1900) * 12 + local$mon + (local$mday >= 15)
d$month <- sprintf("%04d-%02d", month_index %/% 12, month_index %% 12 + 1)
# a stratum with a single PSU (the PSU of response R0161) for the lonely-PSU designs
d$stratum_lonely <- ifelse(d$psu == d$psu[d$response_id == "R0161"], "S5", d$stratum)
d$any_comp <- rowSums(d[paste0("a_", comp_items)]) > 0
for (e in names(elements)) d[[paste0("any_", e)]] <- rowSums(d[paste0("a_", elements[[e]])]) > 0

base <- svydesign(ids = ~cluster, strata = ~stratum, weights = ~weight, nest = TRUE, data = d)
pop_cells <- data.frame(cell = paste(cells$agency, cells$procedure_field, sep = "/"),
                        Freq = cells$total)
pop_cells <- pop_cells[pop_cells$Freq > 0, ]
poststrat <- withCallingHandlers(
  postStratify(base, ~cell, pop_cells, partial = TRUE),
  warning = function(w) if (grepl("absent from sample", conditionMessage(w))) invokeRestart("muffleWarning"))
mm_names <- c("(Intercept)", paste0("agency", names(ag_tot)[-1]), paste0("procedure_field", names(fd_tot)[-1]))
pop_rake <- c(sum(ag_tot), ag_tot[-1], fd_tot[-1])
names(pop_rake) <- mm_names
raked <- calibrate(base, ~agency + procedure_field, population = pop_rake,
                   calfun = "raking", epsilon = 1e-12, maxit = 200)

designs <- list(
  unweighted = svydesign(ids = ~1, data = d),
  weighted = svydesign(ids = ~1, weights = ~weight, data = d),
  equal_weights = svydesign(ids = ~1, weights = ~w_equal, data = d),
  stratified = svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = d),
  clustered = svydesign(ids = ~psu, weights = ~weight, data = d),
  stratified_clustered = base,
  poststratified = poststrat,
  raked = raked,
  lonely_remove = svydesign(ids = ~cluster, strata = ~stratum_lonely, weights = ~weight,
                            nest = TRUE, data = d),
  lonely_adjust = svydesign(ids = ~cluster, strata = ~stratum_lonely, weights = ~weight,
                            nest = TRUE, data = d)
)
calibrated <- c("poststratified", "raked")
lonely_option <- c(lonely_remove = "remove", lonely_adjust = "adjust")
month_designs <- c("stratified_clustered", "poststratified", "raked")

# ---------------------------------------------------------------- helpers
num <- function(x) if (length(x) == 0 || is.null(x)) NA_real_ else as.numeric(x)

kg_spec <- function(est, var, nd, df, n_kish, alpha = 0.05, p0 = 0.90) {
  # ANALYSIS.md: Korn-Graubard with n_d; Clopper-Pearson with n_kish at 0 or 1
  res <- list(ci = c(NA_real_, NA_real_), p_below = NA_real_, p_above = NA_real_)
  if (is.na(est) || is.na(df) || df < 1 || nd < 2) return(res)
  n_eff <- est * (1 - est) / var
  if (est <= 1e-12 || est >= 1 - 1e-12) {
    n <- n_kish
    x <- if (est <= 1e-12) 0 else n
  } else if (is.na(n_eff) || n_eff < 0 || n_eff > 1e15) {
    # zero variance inside (0, 1) (every respondent answered alike; R's variance
    # is then rounding noise, sometimes negative): the module's extension of
    # the boundary rule, Clopper-Pearson with n_kish
    n <- n_kish
    x <- n * est
  } else {
    n <- n_eff * (qt(alpha / 2, nd - 1) / qt(alpha / 2, df))^2
    x <- n * est
  }
  lo <- if (x > 0) qbeta(alpha / 2, x, n - x + 1) else 0
  hi <- if (x < n) qbeta(1 - alpha / 2, x + 1, n - x) else 1
  pb <- if (x < n) pbeta(p0, x + 1, n - x, lower.tail = FALSE) else 1
  pa <- if (x > 0) pbeta(p0, x, n - x + 1) else 1
  list(ci = c(lo, hi), p_below = pb, p_above = pa)
}

domain_sizes <- function(sub) {
  w <- weights(sub)
  w <- w[w != 0]
  list(n = length(w), n_kish = sum(w)^2 / sum(w^2), weight_total = sum(w))
}

quiet <- function(expr) withCallingHandlers(expr, warning = function(w) invokeRestart("muffleWarning"))

item_block <- function(des, keep, it) {
  sub <- subset(des, keep & !is.na(d[[it]]))
  sz <- domain_sizes(sub)
  if (sz$n == 0) return(list(n = 0, error = "no respondent answered: R cannot estimate"))
  f <- as.formula(paste0("~s_", it))  # = satisfied within the domain; no NA rows
  beta <- quiet(svyciprop(f, sub, method = "beta"))
  logit <- tryCatch(quiet(svyciprop(f, sub, method = "logit")), error = function(e) NULL)
  est <- num(coef(beta))
  var <- num(attr(beta, "var"))
  df <- degf(sub)
  spec <- kg_spec(est, var, sz$n, df, sz$n_kish)
  list(n = sz$n, n_kish = sz$n_kish, weight_total = sz$weight_total, df = df,
       index = est, variance = var, se = sqrt(pmax(var, 0)), nrow_design = nrow(sub),
       ci_svyciprop = num(attr(beta, "ci")),
       ci_logit = if (is.null(logit)) c(NA_real_, NA_real_) else num(attr(logit, "ci")),
       ci_spec = spec$ci, p_below = spec$p_below, p_above = spec$p_above)
}

ratio_block <- function(des, keep, its, coefs) {
  # its: all candidate items; coefs: named element weight per item (composite)
  # or NULL (element: equal weights)
  in_dom <- keep & rowSums(d[paste0("a_", its)]) > 0
  sub <- subset(des, in_dom)
  sz <- domain_sizes(sub)
  answered <- colSums(d[in_dom, paste0("a_", its), drop = FALSE]) > 0
  kept <- its[answered]
  dropped <- its[!answered]
  if (length(kept) == 0) return(list(n = sz$n, dropped_items = its, error = "nothing left"))
  k <- setNames(numeric(length(kept)), paste0("s_", kept, "/a_", kept))
  if (is.null(coefs)) {
    k[] <- 1 / length(kept)
    dropped_elements <- character(0)
  } else {
    el_of <- coefs$element[kept]
    m_e <- table(el_of)
    c_e <- coefs$weight[names(m_e)]
    c_e <- c_e / sum(c_e)
    k[] <- as.numeric(c_e[el_of] / m_e[el_of])
    dropped_elements <- setdiff(names(coefs$weight), names(m_e))
  }
  r <- svyratio(as.formula(paste("~", paste0("s_", kept, collapse = "+"))),
                as.formula(paste("~", paste0("a_", kept, collapse = "+"))),
                sub, covmat = TRUE)
  full <- setNames(numeric(length(coef(r))), names(coef(r)))
  full[names(k)] <- k
  sc <- svycontrast(r, full)
  est <- num(coef(sc))
  var <- num(vcov(sc))
  df <- degf(sub)
  spec <- kg_spec(est, var, sz$n, df, sz$n_kish)
  list(n = sz$n, n_kish = sz$n_kish, weight_total = sz$weight_total, df = df,
       index = est, variance = var, se = sqrt(pmax(var, 0)), ci_spec = spec$ci, p_below = spec$p_below,
       p_above = spec$p_above, dropped_items = dropped, dropped_elements = dropped_elements)
}

comp_coefs <- list(
  element = setNames(rep(names(elements), lengths(elements)), comp_items),
  weight = element_weight
)

group_blocks <- function(des, keep) {
  list(
    composite = ratio_block(des, keep, comp_items, comp_coefs),
    elements = lapply(elements, function(its) ratio_block(des, keep, its, NULL)),
    items = setNames(lapply(items, function(it) item_block(des, keep, it)), items)
  )
}

# ---------------------------------------------------------------- run
result <- list(
  meta = list(
    r_version = R.version.string,
    survey_version = as.character(packageVersion("survey")),
    alpha = 0.05, p0 = 0.90,
    calibrated_designs = calibrated,
    lonely_psu = as.list(lonely_option),
    note = paste("ci_svyciprop is svyciprop(method='beta'); ci_spec is the ANALYSIS.md",
                 "formula evaluated in R with n_d (they coincide except for calibrated",
                 "designs, where svyciprop uses nrow(design) = full sample size)")
  ),
  designs = list()
)
for (name in names(designs)) {
  des <- designs[[name]]
  cat("design", name, "\n")
  options(survey.lonely.psu = if (name %in% names(lonely_option)) lonely_option[[name]] else "fail")
  groups <- list()
  for (ag in agencies$agency) groups[[ag]] <- group_blocks(des, d$agency == ag)
  result$designs[[name]] <- list(
    weights = as.numeric(weights(des)),
    groups = groups,
    overall = group_blocks(des, rep(TRUE, nrow(d)))
  )
  if (name %in% month_designs) {
    # agency x month domains: post-stratification cells (agency x field) and
    # raking margins cut across months, so residuals spill across domains
    months <- list()
    for (ag in agencies$agency) for (mo in sort(unique(d$month[d$agency == ag]))) {
      keep <- d$agency == ag & d$month == mo
      months[[paste(ag, mo, sep = "|")]] <- list(
        composite = ratio_block(des, keep, comp_items, comp_coefs),
        items = list(Q0 = item_block(des, keep, "Q0")))
    }
    result$designs[[name]]$months <- months
  }
}
options(survey.lonely.psu = "fail")
write_json(result, file.path(out_dir, "golden_r.json"), digits = I(17), auto_unbox = TRUE,
           na = "null", null = "null")
cat("wrote", file.path(out_dir, "golden_r.json"), "\n")

// How the Insights page writes numbers and dates. The API's numbers stay the source of truth:
// tables keep the raw value in data-value and show one of these readable forms beside it.

// One fixed locale: the page is English, and a printed report must read the same on every
// machine. Costs are Medicare national reference prices, hence US dollars.
const LOCALE = "en-US";
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const dollars = new Intl.NumberFormat(LOCALE, { style: "currency", currency: "USD" });
const wholeDollars = new Intl.NumberFormat(LOCALE, {
  style: "currency", currency: "USD", maximumFractionDigits: 0,
});
// Shares come with four decimals (0.4265); two decimals of a percent show them exactly.
const percent = new Intl.NumberFormat(LOCALE, {
  style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 2,
});
// Headline tiles round to one decimal: "40.3%" reads at a glance; tables keep every digit.
const roundedPercent = new Intl.NumberFormat(LOCALE, {
  style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1,
});
const oneDecimal = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });
const day = new Intl.DateTimeFormat(LOCALE, {
  day: "numeric", month: "short", year: "numeric", timeZone: "UTC",
});

export const formatCount = (value) => integer.format(value);

/** A decimal string from the API ("41943.28") in dollars and cents. */
export const formatCost = (amount) => dollars.format(Number(amount));

/** Rounded to the dollar, for headline figures where cents are noise. */
export const formatCostRounded = (amount) => wholeDollars.format(Number(amount));

export const formatShare = (share) => percent.format(share);
export const formatShareRounded = (share) => roundedPercent.format(share);

/** Hours as a person says them: "45 min", "18.5 h", "4.4 d". */
export function formatHours(hours) {
  if (hours === null || hours === undefined) return "—";
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  if (hours < 24) return `${oneDecimal.format(hours)} h`;
  return `${oneDecimal.format(hours / 24)} d`;
}

/** A YYYY-MM-DD date (the API's dates are UTC days) as "31 Aug 2026". */
export function formatDay(isoDay) {
  return day.format(new Date(`${isoDay}T00:00:00Z`));
}

export const plural = (n, one, many) => `${formatCount(n)} ${n === 1 ? one : many}`;

//! Wall-clock formatting in the styles the vendors print (`show clock`, `! Last configuration
//! change at ...`, Junos `## Last commit:`), in UTC, without a date-time crate.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC calendar time broken into fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub millis: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl Civil {
    pub fn from_system(t: SystemTime) -> Civil {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        Civil::from_unix_millis(d.as_millis() as i64)
    }

    pub fn now() -> Civil {
        Civil::from_system(SystemTime::now())
    }

    /// Howard Hinnant's days-to-civil algorithm.
    pub fn from_unix_millis(ms: i64) -> Civil {
        let secs = ms.div_euclid(1000);
        let millis = ms.rem_euclid(1000) as u32;
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Civil {
            year,
            month,
            day,
            hour: (sod / 3600) as u32,
            minute: (sod / 60 % 60) as u32,
            second: (sod % 60) as u32,
            millis,
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    fn mon(&self) -> &'static str {
        MONTHS[(self.month as usize + 11) % 12]
    }

    fn dow(&self) -> &'static str {
        DAYS[self.weekday as usize % 7]
    }

    /// `11:52:03 UTC Wed Nov 25 2026` (IOS configuration-change comments).
    pub fn ios(&self) -> String {
        format!(
            "{:02}:{:02}:{:02} UTC {} {} {} {}",
            self.hour,
            self.minute,
            self.second,
            self.dow(),
            self.mon(),
            self.day,
            self.year
        )
    }

    /// `11:52:03.123 UTC Wed Nov 25 2026` (IOS/EOS-style `show clock`).
    pub fn ios_clock(&self) -> String {
        format!(
            "{:02}:{:02}:{:02}.{:03} UTC {} {} {} {}",
            self.hour,
            self.minute,
            self.second,
            self.millis,
            self.dow(),
            self.mon(),
            self.day,
            self.year
        )
    }

    /// `Wed Nov 25 11:52:03 2026` (NX-OS, XR banners).
    pub fn unix(&self) -> String {
        format!(
            "{} {} {} {:02}:{:02}:{:02} {}",
            self.dow(),
            self.mon(),
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.year
        )
    }

    /// `Wed Nov 25 11:52:03.123 UTC` (the timestamp IOS-XR prints before show output).
    pub fn xr_stamp(&self) -> String {
        format!(
            "{} {} {} {:02}:{:02}:{:02}.{:03} UTC",
            self.dow(),
            self.mon(),
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.millis
        )
    }

    /// `2026-11-25 11:52:03 UTC` (Junos).
    pub fn iso(&self) -> String {
        format!(
            "{}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_like_the_vendors() {
        // 2026-11-25 11:52:03.123 UTC was a Wednesday.
        let c = Civil::from_unix_millis(1_795_607_523_123);
        assert_eq!(c.iso(), "2026-11-25 11:52:03 UTC");
        assert_eq!(c.ios(), "11:52:03 UTC Wed Nov 25 2026");
        assert_eq!(c.ios_clock(), "11:52:03.123 UTC Wed Nov 25 2026");
        assert_eq!(c.unix(), "Wed Nov 25 11:52:03 2026");
        assert_eq!(c.xr_stamp(), "Wed Nov 25 11:52:03.123 UTC");
        let epoch = Civil::from_unix_millis(0);
        assert_eq!(epoch.iso(), "1970-01-01 00:00:00 UTC");
        assert_eq!(epoch.weekday, 4);
    }
}

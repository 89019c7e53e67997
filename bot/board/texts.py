"""The board's words, in English and Chinese."""

from __future__ import annotations

T = {
    "en": {
        "nav_cases": "Cases", "nav_vendors": "Vendors", "sign_out": "Sign out",
        "signin_needed": "This page needs a sign-in.",
        "signin_how": "Type <code>case board</code> in the support channel (Slack, WeCom or <code>crashdesk chat</code>) and open the link the bot gives you.",
        "link_bad": "This sign-in link is not valid: it has expired or was altered.",
        "search": "Search", "search_placeholder": "Search titles, calls, verdicts…", "filter": "Filter",
        "status": "Status", "priority": "Priority", "customer": "Customer", "vendor": "Vendor", "owner": "Owner",
        "any_priority": "Any priority", "any_customer": "Any customer", "any_vendor": "Any vendor", "any_owner": "Any owner",
        "st_open": "Open (and observing)", "st_observing": "Observing", "st_archived": "Archived", "st_all": "All",
        "n_cases": "{n} cases", "showing": "showing {n}", "more": "More…",
        "case": "Case", "title": "Title", "age": "Age", "days": "d", "last_contact": "Last contact",
        "next_action": "Next action", "first_response": "First response", "verdict": "Verdict",
        "no_cases": "No cases match.", "status_open": "open", "status_observing": "observing", "status_archived": "archived",
        "opened": "Opened", "overdue": "overdue", "case_verdict": "Verdict", "modules": "Modules",
        "confidence": "Confidence", "conf_high": "high", "conf_medium": "medium", "conf_low": "low",
        "known_issue": "Known issue", "recommendation": "Recommendation", "dump": "Dump", "partial": "partial",
        "subtype": "Subtype", "app_crash": "Application crash", "culprit": "Culprit", "third_party": "third-party",
        "inbox": "Windows in-box", "built": "built", "no_module": "no module identified", "process": "Process",
        "os": "OS", "bucket": "Failure bucket", "third_party_on_stack": "Third-party modules on the stack",
        "stack": "Stack", "no_verdict": "No evidence analysed yet: upload a dump or a WinDbg log below.",
        "upload": "Add evidence", "drop_here": "Drop dumps, WinDbg logs or zips here, or choose files",
        "upload_button": "Upload and analyse", "upload_limit": "Up to {mb} MB per file.",
        "closing_summary": "Closing summary", "customer_email": "E-mail to the customer", "copy": "Copy",
        "timeline": "Timeline", "tl_upload": "Upload", "nothing_yet": "Nothing recorded yet.",
        "kind_phone": "Phone call", "kind_email": "E-mail", "kind_visit": "Visit", "kind_note": "Note",
        "decision_archive": "Archived", "decision_reopen": "Reopened",
        "vendors_title": "Vendors behind the cases",
        "vendors_intro": "Vendors whose modules the verdicts blame, over all cases ({dumps} files analysed).",
        "chart_caption": "Cases opened per month, by the vendor the verdict names.",
        "open_cases": "Open cases", "archived_cases": "Archived cases", "dumps": "Files", "no_vendors": "No verdict names a vendor yet.",
        "upload_done": "Analysed: {line}", "upload_none": "Choose at least one file.",
        "upload_queued": "Received; the analysis is still running. The verdict will appear on this page and in the case's chat threads.",
        "upload_failed": "The file could not be analysed; see the case page.", "csrf_bad": "This form has expired; reload the page.",
        "not_found": "No such case.", "upload_too_many": "At most {n} files in one upload.",
    },
    "zh": {
        "nav_cases": "案例", "nav_vendors": "厂商", "sign_out": "退出",
        "signin_needed": "请先登录。",
        "signin_how": "在支持频道（Slack、企业微信或 <code>crashdesk chat</code>）中发送 <code>case board</code>，打开机器人给出的链接即可。",
        "link_bad": "登录链接无效：已过期或被修改。",
        "search": "搜索", "search_placeholder": "搜索标题、跟进记录、分析结论……", "filter": "筛选",
        "status": "状态", "priority": "优先级", "customer": "客户", "vendor": "厂商", "owner": "负责人",
        "any_priority": "全部优先级", "any_customer": "全部客户", "any_vendor": "全部厂商", "any_owner": "全部负责人",
        "st_open": "未结（含观察中）", "st_observing": "观察中", "st_archived": "已归档", "st_all": "全部",
        "n_cases": "共 {n} 个案例", "showing": "显示 {n} 个", "more": "更多……",
        "case": "案例号", "title": "标题", "age": "已开", "days": "天", "last_contact": "最近联系",
        "next_action": "下一步", "first_response": "初次响应", "verdict": "分析结论",
        "no_cases": "没有符合条件的案例。", "status_open": "处理中", "status_observing": "观察中", "status_archived": "已归档",
        "opened": "建立时间", "overdue": "已逾期", "case_verdict": "分析结论", "modules": "相关模块",
        "confidence": "可信度", "conf_high": "高", "conf_medium": "中", "conf_low": "低",
        "known_issue": "已知问题", "recommendation": "建议", "dump": "Dump", "partial": "部分",
        "subtype": "子类型", "app_crash": "应用程序崩溃", "culprit": "相关模块", "third_party": "第三方",
        "inbox": "Windows 自带", "built": "编译于", "no_module": "未能确定相关模块", "process": "进程",
        "os": "系统版本", "bucket": "FAILURE_BUCKET_ID", "third_party_on_stack": "callstack 中的第三方模块",
        "stack": "callstack", "no_verdict": "尚未分析任何文件：可在下方上传 dump 或 WinDbg 日志。",
        "upload": "上传文件", "drop_here": "将 dump、WinDbg 日志或压缩包拖到此处，或选择文件",
        "upload_button": "上传并分析", "upload_limit": "每个文件最大 {mb} MB。",
        "closing_summary": "案例总结", "customer_email": "给客户的邮件", "copy": "复制",
        "timeline": "处理记录", "tl_upload": "上传", "nothing_yet": "暂无记录。",
        "kind_phone": "电话沟通", "kind_email": "邮件沟通", "kind_visit": "现场支持", "kind_note": "备注",
        "decision_archive": "归档", "decision_reopen": "重新打开",
        "vendors_title": "案例涉及的厂商",
        "vendors_intro": "分析结论所指向的厂商及其模块（共分析 {dumps} 个文件）。",
        "chart_caption": "每月新建案例数，按分析结论指向的厂商统计。",
        "open_cases": "未结案例", "archived_cases": "已归档案例", "dumps": "文件", "no_vendors": "尚无指向厂商的分析结论。",
        "upload_done": "分析完成：{line}", "upload_none": "请至少选择一个文件。",
        "upload_queued": "已收到，仍在分析中。结论会显示在本页，并发到案例的聊天话题。",
        "upload_failed": "文件无法分析，请查看案例页面。", "csrf_bad": "表单已过期，请刷新页面。",
        "not_found": "没有这个案例。", "upload_too_many": "一次最多上传 {n} 个文件。",
    },
}


def translator(lang: str):
    table = T.get(lang, T["en"])

    def t(key: str, **params) -> str:
        text = table.get(key) or T["en"].get(key, key)
        return text.format(**params) if params else text

    return t

#include "ui/publish_settings_dialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStyle>
#include <QVBoxLayout>

#include <vector>

namespace sb::ui {

namespace {

enum class Kind { Bool, Choice, Text, List, Seconds };

struct Choice {
    const char* value;  // as written in the file
    const char* label;
};

// One key of [publish]: how it is edited, and what it replaces (the seed's parameter).
struct Spec {
    const char* key;
    Kind kind;
    const char* label;
    const char* replaces;  // the pua_dialoginfo / pua parameter, as the issue names it
    const char* help;
    const char* placeholder = nullptr;
    std::vector<Choice> choices = {};
    int minimum = 0;
    int maximum = 604800;  // one week, the configuration's limit
    const char* zeroText = nullptr;
};

struct Group {
    const char* title;
    std::vector<Spec> specs;
};

// The sections of the dialog, left column first. Every key of the issue's [publish]
// table, each once.
const std::vector<Group>& groups() {
    static const std::vector<Group> all = {
        {QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Presence server"),
         {
             {"enabled", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "&Publish dialog state to a presence server"),
              "loading the pua_dialoginfo module",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Every side of every call the built-in server routes is "
                                "PUBLISHed (RFC 3903) as an RFC 4235 dialog-info document.")},
             {"server", Kind::Text, QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Ser&ver:"),
              "pua's outbound_proxy",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "IP address and port of the presence server, such as "
                                "192.0.2.10:5060 or [2001:db8::1]:5060. Needed when "
                                "publishing is on."),
              "192.0.2.10:5060"},
             {"transport",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "&Transport:"),
              "the transport of pua's outbound_proxy",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "How PUBLISH requests reach the presence server."),
              nullptr,
              {{"udp", "UDP"}, {"tcp", "TCP"}}},
             {"expires",
              Kind::Seconds,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "E&xpiry asked for:"),
              "pua's default_expires",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Seconds each publication asks to live; the presence "
                                "server's answer rules, and Switchboard refreshes in time."),
              nullptr,
              {},
              1},
             {"hold_when_busy",
              Kind::Seconds,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Hold when &busy, at most:"),
              "— (new: pua publishes however busy the proxy is)",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Calls before presence: while the server is busy, states "
                                "wait up to this many seconds (the newest one goes out), "
                                "and calls over by then are not published. 0: never wait."),
              nullptr,
              {},
              0,
              60,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Never")},
         }},
        {QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Document"),
         {
             {"compat",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Pro&file:"),
              "— (new)",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "rfc4235: the RFC's document. kamailio: what pua_dialoginfo "
                                "writes, as its watchers see it (\"Trying\", no proceeding, "
                                "no event or code, remote before local, version 0)."),
              nullptr,
              {{"rfc4235", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "RFC 4235")},
               {"kamailio",
                QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Kamailio pua_dialoginfo")}}},
             {"dialog_id",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "&Dialog id:"),
              "use_uuid",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The id of the <dialog> element: unique per call and side, a "
                                "counter, or the Call-ID (as pua_dialoginfo without use_uuid)."),
              nullptr,
              {{"uuid", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Unique id")},
               {"counter", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Counter")},
               {"call-id", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Call-ID")}}},
             {"include_callid", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Include the Call-&ID"),
              "include_callid",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The call-id attribute of each dialog.")},
             {"include_tags", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Include the ta&gs"),
              "include_tags",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "local-tag and remote-tag (a pickup needs them). Without them "
                                "the targets still come from the Contacts.")},
             {"include_localremote", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Include &local and remote"),
              "include_localremote",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The <local> and <remote> parties: identity and target.")},
             {"display_names",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Display &names:"),
              "attribute_display",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Where a party's display name goes: on <identity> as RFC "
                                "4235 puts it, on <target> as pua_dialoginfo does, or nowhere."),
              nullptr,
              {{"identity", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "On the identity")},
               {"target", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "On the target")},
               {"off", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Off")}}},
             {"version",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Ve&rsion:"),
              "pua's dlginfo_increase_version",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The document's version: rising with each publication (RFC "
                                "4235 §4.1), or always 0."),
              nullptr,
              {{"rising", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Rising")},
               {"zero", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Always 0")}}},
         }},
        {QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Calls"),
         {
             {"which_calls",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "C&alls to publish:"),
              "send_publish_flag",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "local: only parties in the server's own domains; all; or "
                                "marked: only calls whose INVITE carries the mark header."),
              nullptr,
              {{"local", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Local domains")},
               {"all", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "All calls")},
               {"marked",
                QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Marked by a header")}}},
             {"mark_header", Kind::Text,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "&Mark header:"),
              "send_publish_flag (the script's flag)",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The INVITE header that marks a call to publish; needed with "
                                "calls to publish = marked."),
              "X-Publish"},
             {"callee_entity",
              Kind::Choice,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Callee &entity:"),
              "include_req_uri",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Whom the callee's side is published for: the To URI, or the "
                                "AoR the call was routed to (never a registered Contact)."),
              nullptr,
              {{"to", QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "To URI")},
               {"request-uri",
                QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Request-URI (AoR)")}}},
             {"lifetime",
              Kind::Seconds,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Lifetime &override:"),
              "override_lifetime",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Seconds a published dialog lives; 0: the call's own lifetime."),
              nullptr,
              {},
              0,
              604800,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "The call's own")},
             {"caller_confirmed", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "&Caller shows confirmed while ringing"),
              "caller_confirmed",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "For phones whose key blinks on any early dialog.")},
             {"callee_trying", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Callee shows tr&ying at once"),
              "callee_trying",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "The callee's side is published as trying when the INVITE is "
                                "forwarded, not from its phone's first answer.")},
             {"publish_in_dialog", Kind::Bool,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Publish again on in-dialog re&quests"),
              "publish_dialog_req_within",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "A request inside a confirmed call publishes confirmed again "
                                "(never while it is still early).")},
         }},
        {QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Skipping"),
         {
             {"skip_caller", Kind::List,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "S&kip callers:"),
              "disable_caller_publish_flag",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "Patterns, separated by commas: user, user@domain, *@domain or "
                                "header:NAME. Matching calls do not publish the caller's side."),
              "201, *@example.com, header:X-No-Publish"},
             {"skip_callee", Kind::List,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "&Skip callees:"),
              "disable_callee_publish_flag",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "The same for the callee's side."),
              "202, header:X-No-Publish"},
             {"caller_entity_when_skipped", Kind::Text,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Skipped caller s&hown as:"),
              "caller_entity_when_publish_disabled",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "A SIP URI put wherever a skipped caller appears in the "
                                "callee's documents; empty: the caller as it is."),
              "sip:anonymous@example.com"},
             {"callee_entity_when_skipped", Kind::Text,
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog", "Skipped callee sho&wn as:"),
              "callee_entity_when_publish_disabled",
              QT_TRANSLATE_NOOP("sb::ui::PublishSettingsDialog",
                                "A SIP URI put wherever a skipped callee appears in the "
                                "caller's documents; empty: the callee as it is."),
              "sip:anonymous@example.com"},
         }},
    };
    return all;
}

const Spec* specOf(const QString& key) {
    for (const Group& group : groups())
        for (const Spec& spec : group.specs)
            if (key == QLatin1String(spec.key)) return &spec;
    return nullptr;
}

QString translated(const char* text) {
    return QCoreApplication::translate("sb::ui::PublishSettingsDialog", text);
}

// "&Transport:" → "Transport", the way a message names the field.
QString plainLabel(const Spec& spec) {
    QString text = translated(spec.label);
    text.remove(QLatin1Char('&'));
    if (text.endsWith(QLatin1Char(':'))) text.chop(1);
    return text;
}

bool isTrue(const QString& value) {
    const QString lower = value.trimmed().toLower();
    return lower == u"true" || lower == u"yes" || lower == u"on" || lower == u"1";
}

// "[publish] server: 'pbx': ..." → {"server", "'pbx': ..."}; empty key when not of that form.
std::pair<QString, QString> splitProblem(const QString& problem) {
    static const QString prefix = QStringLiteral("[publish] ");
    if (!problem.startsWith(prefix)) return {{}, problem};
    const qsizetype colon = problem.indexOf(QLatin1Char(':'), prefix.size());
    if (colon < 0) return {{}, problem};
    return {problem.mid(prefix.size(), colon - prefix.size()).trimmed(),
            problem.mid(colon + 1).trimmed()};
}

}  // namespace

PublishSettingsDialog::PublishSettingsDialog(const Values& values, Apply apply, QWidget* parent)
    : QDialog(parent),
      m_apply(std::move(apply)),
      m_notice(new QLabel(this)),
      m_restart(new QLabel(this)),
      m_problemsFrame(new QFrame(this)),
      m_problemsIcon(new QLabel(m_problemsFrame)),
      m_problems(new QLabel(m_problemsFrame)) {
    setWindowTitle(tr("Publishing settings"));
    setObjectName(QStringLiteral("publishSettingsDialog"));
    build();
    for (auto it = values.cbegin(); it != values.cend(); ++it) {
        if (m_fields.contains(it.key()))
            setValue(it.key(), it.value());
        else
            m_passThrough.insert(it.key(), it.value());
    }
    updateDependentFields();
    setFileName({});
}

void PublishSettingsDialog::build() {
    m_notice->setObjectName(QStringLiteral("publishNotice"));
    m_notice->setWordWrap(true);
    m_notice->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* columns = new QHBoxLayout;
    QVBoxLayout* column = nullptr;
    int groupIndex = 0;
    for (const Group& group : groups()) {
        // Two columns: presence server and document left, calls and skipping right.
        if (groupIndex % 2 == 0) {
            column = new QVBoxLayout;
            columns->addLayout(column, 1);
        }
        ++groupIndex;
        auto* box = new QGroupBox(tr(group.title), this);
        auto* form = new QFormLayout(box);
        form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        for (const Spec& spec : group.specs) {
            const QString key = QString::fromLatin1(spec.key);
            const QString toolTip = tr("%1\n\n[publish] %2 — replaces %3")
                                        .arg(tr(spec.help), key, QString::fromUtf8(spec.replaces));
            QWidget* field = nullptr;
            switch (spec.kind) {
                case Kind::Bool: {
                    auto* check = new QCheckBox(tr(spec.label), box);
                    connect(check, &QCheckBox::toggled, this,
                            &PublishSettingsDialog::updateDependentFields);
                    field = check;
                    form->addRow(check);
                    break;
                }
                case Kind::Choice: {
                    auto* combo = new QComboBox(box);
                    for (const Choice& choice : spec.choices)
                        combo->addItem(tr(choice.label), QString::fromLatin1(choice.value));
                    connect(combo, &QComboBox::currentIndexChanged, this,
                            &PublishSettingsDialog::updateDependentFields);
                    field = combo;
                    break;
                }
                case Kind::Text:
                case Kind::List: {
                    auto* edit = new QLineEdit(box);
                    if (spec.placeholder)
                        edit->setPlaceholderText(QString::fromUtf8(spec.placeholder));
                    // Room for a URI or a few patterns without scrolling.
                    edit->setMinimumWidth(edit->fontMetrics().averageCharWidth() * 30);
                    edit->setClearButtonEnabled(true);
                    field = edit;
                    break;
                }
                case Kind::Seconds: {
                    auto* spin = new QSpinBox(box);
                    spin->setRange(spec.minimum, spec.maximum);
                    spin->setSuffix(tr(" s"));
                    if (spec.zeroText) spin->setSpecialValueText(tr(spec.zeroText));
                    spin->setAccelerated(true);
                    field = spin;
                    break;
                }
            }
            field->setObjectName(QStringLiteral("publish_") + key);
            field->setToolTip(toolTip);
            field->setAccessibleName(plainLabel(spec));
            field->setAccessibleDescription(tr(spec.help));
            m_fields.insert(key, field);
            m_toolTips.insert(key, toolTip);
            if (spec.kind != Kind::Bool) {
                auto* label = new QLabel(tr(spec.label), box);
                label->setBuddy(field);
                label->setToolTip(toolTip);
                m_labels.insert(key, label);
                form->addRow(label, field);
            }
        }
        column->addWidget(box);
    }
    for (int i = 0; i < columns->count(); ++i)
        if (auto* layout = qobject_cast<QVBoxLayout*>(columns->itemAt(i)->layout()))
            layout->addStretch(1);

    // Problems: an icon and the text, on a tint; never colour alone.
    m_problemsFrame->setObjectName(QStringLiteral("publishProblems"));
    m_problemsFrame->setFrameShape(QFrame::StyledPanel);
    m_problemsFrame->setAutoFillBackground(true);
    QPalette tinted = m_problemsFrame->palette();
    tinted.setColor(QPalette::Window, QColor(0xFD, 0xEC, 0xEA));
    tinted.setColor(QPalette::WindowText, QColor(0x5F, 0x12, 0x0C));
    m_problemsFrame->setPalette(tinted);
    const int iconSize = style()->pixelMetric(QStyle::PM_SmallIconSize) * 2;
    m_problemsIcon->setPixmap(
        style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(iconSize, iconSize));
    m_problemsIcon->setAlignment(Qt::AlignTop);
    m_problems->setWordWrap(true);
    m_problems->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_problems->setAccessibleName(tr("Problems"));
    auto* problemsLayout = new QHBoxLayout(m_problemsFrame);
    problemsLayout->addWidget(m_problemsIcon, 0, Qt::AlignTop);
    problemsLayout->addWidget(m_problems, 1);
    m_problemsFrame->hide();

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Save)->setObjectName(QStringLiteral("publishSave"));
    connect(buttons, &QDialogButtonBox::accepted, this, &PublishSettingsDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &PublishSettingsDialog::reject);

    m_restart->setObjectName(QStringLiteral("publishRestartNotice"));
    m_restart->setText(tr("Changes apply when Switchboard restarts."));
    QFont bold = m_restart->font();
    bold.setBold(true);
    m_restart->setFont(bold);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_notice);
    layout->addWidget(m_restart);
    layout->addLayout(columns, 1);
    layout->addWidget(m_problemsFrame);
    layout->addWidget(buttons);
}

void PublishSettingsDialog::setFileName(const QString& path) {
    m_fileName = path;
    const QString where = path.isEmpty()
                              ? tr("Saved in the [publish] section of the configuration file.")
                              : tr("Saved in the [publish] section of %1.").arg(path);
    m_notice->setText(tr("Dialog state published to a presence server (RFC 3903 PUBLISH), "
                         "with the options of Kamailio's pua_dialoginfo; each field's tooltip "
                         "names its key and the parameter it replaces.\n%1")
                          .arg(where));
}

QString PublishSettingsDialog::noticeText() const {
    return m_notice->text() + QLatin1Char('\n') + m_restart->text();
}

QStringList PublishSettingsDialog::keys() {
    QStringList out;
    for (const Group& group : groups())
        for (const Spec& spec : group.specs)
            out << QString::fromLatin1(spec.key);
    return out;
}

QWidget* PublishSettingsDialog::field(const QString& key) const {
    return m_fields.value(key);
}

void PublishSettingsDialog::setValue(const QString& key, const QString& value) {
    QWidget* widget = m_fields.value(key);
    if (auto* check = qobject_cast<QCheckBox*>(widget)) {
        check->setChecked(isTrue(value));
    } else if (auto* combo = qobject_cast<QComboBox*>(widget)) {
        int index = combo->findData(value.trimmed().toLower());
        if (index < 0) {
            // A value this dialog does not offer: shown as it is, so Save keeps it (and the
            // check says what is wrong with it).
            combo->addItem(value, value);
            index = combo->count() - 1;
        }
        combo->setCurrentIndex(index);
    } else if (auto* edit = qobject_cast<QLineEdit*>(widget)) {
        edit->setText(value);
    } else if (auto* spin = qobject_cast<QSpinBox*>(widget)) {
        bool ok = false;
        const int seconds = value.trimmed().toInt(&ok);
        if (ok) spin->setValue(seconds);
    }
}

QString PublishSettingsDialog::valueOf(const QString& key) const {
    QWidget* widget = m_fields.value(key);
    if (auto* check = qobject_cast<QCheckBox*>(widget))
        return check->isChecked() ? QStringLiteral("true") : QStringLiteral("false");
    if (auto* combo = qobject_cast<QComboBox*>(widget)) return combo->currentData().toString();
    if (auto* edit = qobject_cast<QLineEdit*>(widget)) return edit->text().trimmed();
    if (auto* spin = qobject_cast<QSpinBox*>(widget)) return QString::number(spin->value());
    return {};
}

PublishSettingsDialog::Values PublishSettingsDialog::values() const {
    Values out = m_passThrough;
    for (auto it = m_fields.cbegin(); it != m_fields.cend(); ++it)
        out.insert(it.key(), valueOf(it.key()));
    return out;
}

void PublishSettingsDialog::updateDependentFields() {
    // The mark header only means something for marked calls; kept, not lost, otherwise.
    auto* which = qobject_cast<QComboBox*>(m_fields.value(QStringLiteral("which_calls")));
    QWidget* header = m_fields.value(QStringLiteral("mark_header"));
    if (which && header) {
        const bool marked = which->currentData().toString() == u"marked";
        header->setEnabled(marked);
        if (QLabel* label = m_labels.value(QStringLiteral("mark_header")))
            label->setEnabled(marked);
    }
}

QString PublishSettingsDialog::problemsText() const {
    return m_problemsFrame->isHidden() ? QString() : m_problems->text();
}

bool PublishSettingsDialog::isMarked(const QString& key) const {
    return m_marked.contains(key);
}

void PublishSettingsDialog::clearMarks() {
    for (const QString& key : std::as_const(m_marked)) {
        if (QLabel* label = m_labels.value(key)) {
            label->setPalette(QPalette());
            QFont font = label->font();
            font.setBold(false);
            label->setFont(font);
        }
        if (QWidget* widget = m_fields.value(key)) {
            widget->setToolTip(m_toolTips.value(key));
            widget->setProperty("problem", QVariant());
        }
    }
    m_marked.clear();
}

void PublishSettingsDialog::mark(const QString& key, const QString& problem) {
    QWidget* widget = m_fields.value(key);
    if (!widget) return;
    if (!m_marked.contains(key)) m_marked << key;
    widget->setProperty("problem", problem);
    widget->setToolTip(tr("Problem: %1\n\n%2").arg(problem, m_toolTips.value(key)));
    // The label turns red and bold; the problem list names the field in words.
    QLabel* label = m_labels.value(key);
    if (!label) return;
    QPalette red = label->palette();
    red.setColor(QPalette::WindowText, QColor(0xC6, 0x28, 0x28));
    label->setPalette(red);
    QFont font = label->font();
    font.setBold(true);
    label->setFont(font);
}

void PublishSettingsDialog::showProblems(const QStringList& problems) {
    clearMarks();
    if (problems.isEmpty()) {
        m_problemsFrame->hide();
        m_problems->clear();
        return;
    }
    QStringList lines;
    QWidget* first = nullptr;
    for (const QString& problem : problems) {
        const auto [key, what] = splitProblem(problem);
        const Spec* spec = key.isEmpty() ? nullptr : specOf(key);
        if (!spec) {
            lines << QStringLiteral("• ") + problem;
            continue;
        }
        lines << tr("• %1 (%2): %3").arg(plainLabel(*spec), key, what);
        mark(key, what);
        if (!first) first = m_fields.value(key);
    }
    m_problems->setText(tr("Not saved. Fix this first:", nullptr, int(lines.size())) +
                        QLatin1Char('\n') + lines.join(QLatin1Char('\n')));
    m_problemsFrame->show();
    // The list needs room: grow rather than squeeze the fields (a word-wrapped label's
    // height depends on the width, which a window's minimum size does not follow).
    layout()->activate();
    const int needed = layout()->hasHeightForWidth() ? layout()->totalHeightForWidth(width())
                                                     : sizeHint().height();
    if (height() < needed) resize(width(), needed);
    if (first) {
        if (!first->isEnabled()) {
            // A disabled field cannot take the focus; its label says where to look.
            if (auto* which = m_fields.value(QStringLiteral("which_calls"))) which->setFocus();
        } else {
            first->setFocus(Qt::OtherFocusReason);
            if (auto* edit = qobject_cast<QLineEdit*>(first)) edit->selectAll();
        }
    }
}

void PublishSettingsDialog::accept() {
    const QStringList problems = m_apply ? m_apply(values()) : QStringList();
    showProblems(problems);
    if (!problems.isEmpty()) return;
    QDialog::accept();
}

}  // namespace sb::ui

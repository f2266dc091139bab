//! Interface text in the four languages (en, fr, es, ar). Questions and choices carry their
//! own translations in the survey files; this is the wording around them.

use crate::kernel::vocab::Language;

/// The language codes in the order of each row of [`TEXTS`].
pub const LANGUAGES: [Language; 4] = [Language::En, Language::Fr, Language::Es, Language::Ar];

pub fn is_rtl(lang: &str) -> bool {
    lang == "ar"
}

pub fn language_name(lang: &str) -> &'static str {
    match lang {
        "fr" => "Français",
        "es" => "Español",
        "ar" => "العربية",
        _ => "English",
    }
}

/// Looks up `key` in `lang`, falling back to English.
pub fn t(lang: &str, key: &str) -> &'static str {
    let row = TEXTS.iter().find(|(k, _)| *k == key);
    let Some((_, texts)) = row else {
        return "";
    };
    texts[index(lang)]
}

/// Every key for one language, for templates.
pub fn all(lang: &str) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, _) in TEXTS {
        m.insert((*k).to_string(), serde_json::Value::from(t(lang, k)));
    }
    serde_json::Value::Object(m)
}

const MONTHS: [[&str; 12]; 4] = [
    [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    [
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ],
];

fn index(lang: &str) -> usize {
    match lang {
        "fr" => 1,
        "es" => 2,
        "ar" => 3,
        _ => 0,
    }
}

/// A day as people write it in `lang`: "14 December 2026", "14 décembre 2026",
/// "14 de diciembre de 2026", "14 ديسمبر 2026".
pub fn date(day: chrono::NaiveDate, lang: &str) -> String {
    use chrono::Datelike;
    let month = MONTHS[index(lang)][day.month0() as usize];
    match lang {
        "es" => format!("{} de {month} de {}", day.day(), day.year()),
        _ => format!("{} {month} {}", day.day(), day.year()),
    }
}

/// A month as people write it in `lang`: "December 2026", "décembre 2026",
/// "diciembre de 2026", "ديسمبر 2026".
pub fn month(day: chrono::NaiveDate, lang: &str) -> String {
    use chrono::Datelike;
    let name = MONTHS[index(lang)][day.month0() as usize];
    match lang {
        "es" => format!("{name} de {}", day.year()),
        _ => format!("{name} {}", day.year()),
    }
}

/// A moment as people read it in `lang`: the day, then the time in UTC
/// ("14 December 2026, 06:06 UTC").
pub fn date_time(at: chrono::NaiveDateTime, lang: &str) -> String {
    format!("{}, {} UTC", date(at.date(), lang), at.format("%H:%M"))
}

type Row = (&'static str, [&'static str; 4]);

const TEXTS: &[Row] = &[
    ("save_draft", ["Save and continue later", "Enregistrer et continuer plus tard", "Guardar y continuar más tarde", "حفظ والمتابعة لاحقًا"]),
    ("submit", ["Submit my answers", "Envoyer mes réponses", "Enviar mis respuestas", "إرسال إجاباتي"]),
    ("draft_saved", ["Your answers are saved. You can come back with the same link on any device.", "Vos réponses sont enregistrées. Vous pouvez revenir avec le même lien sur n'importe quel appareil.", "Sus respuestas están guardadas. Puede volver con el mismo enlace desde cualquier dispositivo.", "تم حفظ إجاباتكم. يمكنكم العودة باستخدام الرابط نفسه من أي جهاز."]),
    ("fix_errors", ["Some answers need attention. Please look at the questions marked below.", "Certaines réponses sont à revoir. Veuillez consulter les questions signalées ci-dessous.", "Algunas respuestas necesitan revisión. Revise las preguntas marcadas a continuación.", "بعض الإجابات تحتاج إلى مراجعة. يرجى الاطلاع على الأسئلة المشار إليها أدناه."]),
    ("thanks_title", ["Thank you", "Merci", "Gracias", "شكرًا لكم"]),
    ("thanks_body", ["Your answers have been received. They are anonymous: only your organization type is kept with them.", "Vos réponses ont bien été reçues. Elles sont anonymes : seul le type de votre organisation est conservé.", "Hemos recibido sus respuestas. Son anónimas: solo se conserva el tipo de su organización.", "تم استلام إجاباتكم. وهي مجهولة المصدر: لا يُحفظ معها سوى نوع منظمتكم."]),
    ("already_submitted", ["Answers have already been submitted with this link. Thank you.", "Des réponses ont déjà été envoyées avec ce lien. Merci.", "Ya se enviaron respuestas con este enlace. Gracias.", "تم إرسال الإجابات باستخدام هذا الرابط من قبل. شكرًا لكم."]),
    ("round_closed", ["This survey is closed and no longer accepts answers.", "Cette enquête est clôturée et n'accepte plus de réponses.", "Esta encuesta está cerrada y ya no acepta respuestas.", "هذا الاستبيان مغلق ولم يعد يقبل الإجابات."]),
    ("round_not_open", ["This survey is not open yet.", "Cette enquête n'est pas encore ouverte.", "Esta encuesta aún no está abierta.", "هذا الاستبيان لم يُفتح بعد."]),
    ("required", ["required", "obligatoire", "obligatoria", "إلزامي"]),
    ("language", ["Language", "Langue", "Idioma", "اللغة"]),
    ("anonymous_note", ["Your answers are anonymous: results are shown only for groups large enough that no organization can be identified.", "Vos réponses sont anonymes : les résultats ne sont présentés que pour des groupes assez grands pour qu'aucune organisation ne soit identifiable.", "Sus respuestas son anónimas: los resultados solo se muestran para grupos lo bastante grandes como para que ninguna organización pueda identificarse.", "إجاباتكم مجهولة المصدر: لا تُعرض النتائج إلا لمجموعات كبيرة بما يكفي بحيث لا يمكن التعرف على أي منظمة."]),
    ("invite_subject", ["Your views on the {operation}: {survey}", "Votre avis sur le {operation} : {survey}", "Su opinión sobre el {operation}: {survey}", "رأيكم في {operation}: {survey}"]),
    ("invite_body", ["Hello,\n\nThe {operation} ({cluster}) is reviewing how well it coordinates, and asks for your views. The questionnaire takes about 15 minutes. Your answers are anonymous.\n\nOpen your personal link (you can save and continue later):\n{link}\n\nThe survey closes on {closes}.\n\nThank you.", "Bonjour,\n\nLe {operation} ({cluster}) évalue la qualité de sa coordination et souhaite connaître votre avis. Le questionnaire prend environ 15 minutes. Vos réponses sont anonymes.\n\nOuvrez votre lien personnel (vous pouvez enregistrer et continuer plus tard) :\n{link}\n\nL'enquête se termine le {closes}.\n\nMerci.", "Hola:\n\nEl {operation} ({cluster}) está evaluando la calidad de su coordinación y desea conocer su opinión. El cuestionario toma unos 15 minutos. Sus respuestas son anónimas.\n\nAbra su enlace personal (puede guardar y continuar más tarde):\n{link}\n\nLa encuesta cierra el {closes}.\n\nGracias.", "مرحبًا،\n\nتقوم {operation} ({cluster}) بمراجعة جودة التنسيق، وتودّ معرفة رأيكم. يستغرق الاستبيان نحو 15 دقيقة، وإجاباتكم مجهولة المصدر.\n\nافتحوا رابطكم الشخصي (يمكنكم الحفظ والمتابعة لاحقًا):\n{link}\n\nيُغلق الاستبيان في {closes}.\n\nشكرًا لكم."]),
    ("remind_subject", ["Reminder: {survey}", "Rappel : {survey}", "Recordatorio: {survey}", "تذكير: {survey}"]),
    ("remind_body", ["Hello,\n\nThis is a reminder that the {operation} survey closes on {closes}. If you have not answered yet, your views are still welcome:\n{link}\n\nIf you have already answered, please ignore this message. Thank you.", "Bonjour,\n\nPetit rappel : l'enquête du {operation} se termine le {closes}. Si vous n'avez pas encore répondu, votre avis est toujours le bienvenu :\n{link}\n\nSi vous avez déjà répondu, merci d'ignorer ce message.", "Hola:\n\nLe recordamos que la encuesta del {operation} cierra el {closes}. Si aún no ha respondido, su opinión sigue siendo bienvenida:\n{link}\n\nSi ya respondió, ignore este mensaje. Gracias.", "مرحبًا،\n\nنذكّركم بأن استبيان {operation} يُغلق في {closes}. إن لم تجيبوا بعد، فرأيكم ما زال موضع ترحيب:\n{link}\n\nإن كنتم قد أجبتم بالفعل، يرجى تجاهل هذه الرسالة. شكرًا لكم."]),
    ("charter_invite_subject", ["How well does the {operation} support you? {survey}", "Le {operation} vous appuie-t-il bien ? {survey}", "¿Le apoya bien el {operation}? {survey}", "ما مدى دعم {operation} لكم؟ {survey}"]),
    ("charter_invite_body", ["Hello,\n\nThe {operation} asks the coordinators and co-coordinators of its country clusters to rate its support against its service charter. The questionnaire takes about 5 minutes. Answers are pooled across country clusters and never shown per country.\n\nOpen your personal link (you can save and continue later):\n{link}\n\nThe survey closes on {closes}.\n\nThank you.", "Bonjour,\n\nLe {operation} demande aux coordonnateurs et co-coordonnateurs de ses clusters pays d'évaluer son appui au regard de sa charte de services. Le questionnaire prend environ 5 minutes. Les réponses sont regroupées entre clusters pays et jamais présentées par pays.\n\nOuvrez votre lien personnel (vous pouvez enregistrer et continuer plus tard) :\n{link}\n\nL'enquête se termine le {closes}.\n\nMerci.", "Hola:\n\nEl {operation} pide a los coordinadores y co-coordinadores de sus clústeres de país que valoren su apoyo según su carta de servicios. El cuestionario toma unos 5 minutos. Las respuestas se agrupan entre clústeres de país y nunca se muestran por país.\n\nAbra su enlace personal (puede guardar y continuar más tarde):\n{link}\n\nLa encuesta cierra el {closes}.\n\nGracias.", "مرحبًا،\n\nتطلب {operation} من منسقي مجموعاتها القطرية ومنسقيها المشاركين تقييم دعمها وفق ميثاق خدماتها. يستغرق الاستبيان نحو 5 دقائق. تُجمع الإجابات عبر المجموعات القطرية ولا تُعرض أبداً حسب البلد.\n\nافتحوا رابطكم الشخصي (يمكنكم الحفظ والمتابعة لاحقًا):\n{link}\n\nيُغلق الاستبيان في {closes}.\n\nشكرًا لكم."]),
    ("sc_charter_heading", ["How country clusters rate our support", "Comment les clusters pays évaluent notre appui", "Cómo valoran nuestro apoyo los clústeres de país", "كيف تقيّم المجموعات القطرية دعمنا"]),
    ("sc_charter_none", ["No service-charter round of this cluster has closed yet.", "Aucune revue de la charte de services de ce cluster n'est encore clôturée.", "Todavía no se ha cerrado ninguna revisión de la carta de servicios de este clúster.", "لم تُغلق بعد أي جولة لميثاق الخدمات لهذه المجموعة."]),
    ("sc_charter_responses", ["{n} answers from {invited} coordinators invited", "{n} réponses sur {invited} coordonnateurs invités", "{n} respuestas de {invited} coordinadores invitados", "{n} إجابة من {invited} منسقاً مدعواً"]),
    ("fb_send", ["Send", "Envoyer", "Enviar", "إرسال"]),
    ("fb_area_choose", ["Choose…", "Choisissez…", "Elija…", "اختاروا…"]),
    ("repeat_row", ["Row {n}", "Ligne {n}", "Fila {n}", "الصف {n}"]),
    ("repeat_note", ["Fill in one row for each; a row left empty is not counted. Save the draft to get another empty row.", "Remplissez une ligne pour chacun ; une ligne laissée vide n'est pas comptée. Enregistrez le brouillon pour obtenir une autre ligne vide.", "Complete una fila para cada uno; una fila vacía no se cuenta. Guarde el borrador para obtener otra fila vacía.", "املؤوا صفاً لكل واحد؛ الصف الفارغ لا يُحتسب. احفظوا المسودة للحصول على صف فارغ آخر."]),
    ("repeat_note_nosave", ["Fill in one row for each; a row left empty is not counted.", "Remplissez une ligne pour chacun ; une ligne laissée vide n'est pas comptée.", "Complete una fila para cada uno; una fila vacía no se cuenta.", "املؤوا صفاً لكل واحد؛ الصف الفارغ لا يُحتسب."]),
    ("offline_title", ["Fill this in offline (ODK Collect or KoboCollect)", "Remplir hors connexion (ODK Collect ou KoboCollect)", "Completar sin conexión (ODK Collect o KoboCollect)", "الملء دون اتصال (ODK Collect أو KoboCollect)"]),
    ("offline_steps", ["In ODK Collect or KoboCollect, add a project, choose to configure it manually and enter this server address, with no user name or password. Download the form, fill it in without a connection, and send it when you are back online. It counts as this invitation's one response.", "Dans ODK Collect ou KoboCollect, ajoutez un projet, choisissez de le configurer manuellement et saisissez cette adresse de serveur, sans nom d'utilisateur ni mot de passe. Téléchargez le formulaire, remplissez-le sans connexion et envoyez-le une fois la connexion revenue. Il compte comme l'unique réponse de cette invitation.", "En ODK Collect o KoboCollect, añada un proyecto, elija configurarlo manualmente e introduzca esta dirección de servidor, sin nombre de usuario ni contraseña. Descargue el formulario, complételo sin conexión y envíelo cuando vuelva a tener conexión. Cuenta como la única respuesta de esta invitación.", "في ODK Collect أو KoboCollect، أضيفوا مشروعاً واختاروا إعداده يدوياً وأدخلوا عنوان الخادم هذا، دون اسم مستخدم أو كلمة مرور. نزّلوا الاستمارة واملؤوها دون اتصال، ثم أرسلوها عند عودة الاتصال. تُحتسب الرد الوحيد لهذه الدعوة."]),
    ("offline_note", ["This address works like your survey link: keep it to yourself. Your answers stay anonymous either way.", "Cette adresse fonctionne comme votre lien d'enquête : gardez-la pour vous. Vos réponses restent anonymes dans les deux cas.", "Esta dirección funciona como su enlace a la encuesta: no la comparta. Sus respuestas siguen siendo anónimas en ambos casos.", "يعمل هذا العنوان مثل رابط الاستبيان الخاص بكم: احتفظوا به لأنفسكم. تبقى إجاباتكم مجهولة الهوية في الحالتين."]),
    ("repeat_add", ["Add a row", "Ajouter une ligne", "Añadir una fila", "إضافة صف"]),
    ("repeat_remove", ["Remove this row", "Supprimer cette ligne", "Quitar esta fila", "حذف هذا الصف"]),
    ("geopoint_hint", ["Latitude and longitude in degrees, separated by a space (for example 12.34 -1.52)", "Latitude et longitude en degrés, séparées par une espace (par exemple 12.34 -1.52)", "Latitud y longitud en grados, separadas por un espacio (por ejemplo 12.34 -1.52)", "خط العرض وخط الطول بالدرجات، بينهما مسافة (مثل 12.34 -1.52)"]),
    ("range_hint", ["A number from {start} to {end}, in steps of {step}", "Un nombre de {start} à {end}, par pas de {step}", "Un número de {start} a {end}, en pasos de {step}", "رقم من {start} إلى {end}، بخطوات قدرها {step}"]),
    ("acknowledge_ok", ["OK", "OK", "De acuerdo", "موافق"]),
    ("fb_area_other", ["Other / not in the list", "Autre / absent de la liste", "Otro / no está en la lista", "غير ذلك / غير موجود في القائمة"]),
    ("fb_note", ["You do not need to give your name. Only staff who handle feedback can read your message; serious matters are seen only by specially trained staff.", "Vous n'avez pas besoin de donner votre nom. Seules les personnes chargées du suivi peuvent lire votre message ; les sujets graves ne sont vus que par du personnel spécialement formé.", "No necesita dar su nombre. Solo el personal que atiende los comentarios puede leer su mensaje; los asuntos graves solo los ve personal especialmente capacitado.", "لا حاجة إلى ذكر اسمكم. لا يطّلع على رسالتكم إلا الموظفون المكلّفون بمتابعة الملاحظات، ولا يطّلع على المسائل الخطيرة إلا موظفون مدرَّبون خصيصًا."]),
    ("fb_received_title", ["Thank you, your message was received", "Merci, votre message a bien été reçu", "Gracias, recibimos su mensaje", "شكرًا لكم، تم استلام رسالتكم"]),
    ("fb_reference", ["Your reference number", "Votre numéro de référence", "Su número de referencia", "رقمكم المرجعي"]),
    ("fb_reference_note", ["Write this number down or take a photo of it. To see what happened with your message, come back to this page and enter the number. Nobody can read your message with it.", "Notez ce numéro ou prenez-le en photo. Pour savoir ce qu'il advient de votre message, revenez sur cette page et saisissez ce numéro. Personne ne peut lire votre message avec ce numéro.", "Anote este número o tómele una foto. Para saber qué pasó con su mensaje, vuelva a esta página e ingrese el número. Nadie puede leer su mensaje con él.", "دوّنوا هذا الرقم أو التقطوا له صورة. لمعرفة ما حدث لرسالتكم، عودوا إلى هذه الصفحة وأدخلوا الرقم. لا يمكن لأحد قراءة رسالتكم بواسطته."]),
    ("fb_status_title", ["Follow your feedback", "Suivre votre message", "Seguir su mensaje", "متابعة رسالتكم"]),
    ("fb_reply", ["Our reply", "Notre réponse", "Nuestra respuesta", "ردنا"]),
    ("fb_status_prompt", ["Reference number (for example FB-7KQ2-9XW3)", "Numéro de référence (par exemple FB-7KQ2-9XW3)", "Número de referencia (por ejemplo FB-7KQ2-9XW3)", "الرقم المرجعي (مثل FB-7KQ2-9XW3)"]),
    ("fb_check", ["Check", "Vérifier", "Consultar", "تحقّق"]),
    ("fb_not_found", ["We found no message with this number. Check it and try again.", "Aucun message ne correspond à ce numéro. Vérifiez-le et réessayez.", "No encontramos ningún mensaje con este número. Revíselo e inténtelo de nuevo.", "لم نعثر على أي رسالة بهذا الرقم. تحقّقوا منه وحاولوا مرة أخرى."]),
    ("fb_bad_reference", ["This does not look like a reference number. It has 8 letters and digits, like FB-7KQ2-9XW3.", "Ce n'est pas un numéro de référence. Il compte 8 lettres et chiffres, comme FB-7KQ2-9XW3.", "Esto no parece un número de referencia. Tiene 8 letras y cifras, como FB-7KQ2-9XW3.", "هذا لا يبدو رقمًا مرجعيًا. يتكون الرقم من 8 أحرف وأرقام، مثل FB-7KQ2-9XW3."]),
    ("fb_too_many", ["Too many attempts from this connection. Please wait a minute and try again.", "Trop de tentatives depuis cette connexion. Veuillez patienter une minute et réessayer.", "Demasiados intentos desde esta conexión. Espere un minuto e inténtelo de nuevo.", "محاولات كثيرة جدًا من هذا الاتصال. يرجى الانتظار دقيقة ثم المحاولة مرة أخرى."]),
    ("fb_status", ["Status", "Statut", "Estado", "الحالة"]),
    ("fb_updated", ["Last update", "Dernière mise à jour", "Última actualización", "آخر تحديث"]),
    ("fb_new", ["Send another message", "Envoyer un autre message", "Enviar otro mensaje", "إرسال رسالة أخرى"]),
    ("status_received", ["Received: waiting to be looked at", "Reçu : en attente de traitement", "Recibido: en espera de revisión", "تم الاستلام: بانتظار المراجعة"]),
    ("status_acknowledged", ["Seen by the team", "Pris en compte par l'équipe", "Visto por el equipo", "اطّلع عليه الفريق"]),
    ("status_referred", ["Passed to the organization that can act on it", "Transmis à l'organisation qui peut y donner suite", "Remitido a la organización que puede actuar", "أُحيل إلى الجهة القادرة على معالجته"]),
    ("status_responded", ["Answered", "Une réponse a été donnée", "Respondido", "تم الرد"]),
    ("status_closed", ["Closed", "Clôturé", "Cerrado", "مغلق"]),
    ("sc_subject", ["{cluster}: coordination scorecard, {period}", "{cluster} : tableau de bord de la coordination, {period}", "{cluster}: cuadro de mando de la coordinación, {period}", "{cluster}: بطاقة أداء التنسيق، {period}"]),
    ("sc_intro", ["The latest closed performance round of each operation of the cluster, and the feedback received from affected people.", "La dernière évaluation de performance clôturée de chaque opération du cluster, et les retours reçus des personnes affectées.", "La última evaluación de desempeño cerrada de cada operación del clúster y los comentarios recibidos de las personas afectadas.", "آخر جولة مكتملة لتقييم الأداء في كل عملية من عمليات المجموعة، والملاحظات الواردة من المتأثرين."]),
    ("sc_grid", ["Core functions by operation", "Fonctions essentielles par opération", "Funciones básicas por operación", "الوظائف الأساسية حسب العملية"]),
    ("sc_operation", ["Operation", "Opération", "Operación", "العملية"]),
    ("sc_round", ["Round", "Évaluation", "Evaluación", "الجولة"]),
    ("sc_overall", ["Overall score", "Score global", "Puntuación global", "الدرجة الإجمالية"]),
    ("sc_interval", ["95% interval", "intervalle à 95 %", "intervalo del 95 %", "فاصل ثقة 95%"]),
    ("sc_change", ["Change since the previous round", "Évolution depuis l'évaluation précédente", "Cambio desde la evaluación anterior", "التغيّر منذ الجولة السابقة"]),
    ("sc_response_rate", ["Response rate", "Taux de réponse", "Tasa de respuesta", "معدل الاستجابة"]),
    ("sc_no_round", ["No closed round yet", "Aucune évaluation clôturée", "Ninguna evaluación cerrada", "لا توجد جولة مكتملة بعد"]),
    ("sc_aap", ["Feedback from affected people (last 12 months)", "Retours des personnes affectées (12 derniers mois)", "Comentarios de las personas afectadas (últimos 12 meses)", "ملاحظات المتأثرين (آخر 12 شهرًا)"]),
    ("sc_items", ["items", "retours", "comentarios", "ملاحظة"]),
    ("sc_ack_sla", ["acknowledged in time", "accusés à temps", "atendidos a tiempo", "تم الإقرار بها في الوقت المحدد"]),
    ("sc_closed", ["closed", "clôturés", "cerrados", "مغلقة"]),
    ("sc_satisfied", ["satisfied", "satisfaits", "satisfechos", "راضون"]),
    ("sc_sensitive", ["sensitive (count only)", "sensibles (nombre seulement)", "delicados (solo el número)", "حساسة (العدد فقط)"]),
    ("sc_overdue_fb", ["past the deadline", "en retard", "fuera de plazo", "تجاوزت المهلة"]),
    ("sc_weakest", ["Weakest indicators across the cluster", "Indicateurs les plus faibles du cluster", "Indicadores más débiles del clúster", "أضعف المؤشرات في المجموعة"]),
    ("sc_actions", ["Open action-plan items", "Actions du plan d'action en cours", "Acciones del plan de acción abiertas", "بنود خطة العمل المفتوحة"]),
    ("sc_overdue", ["overdue", "en retard", "vencida", "متأخرة"]),
    ("sc_due", ["due", "échéance", "vence", "الموعد"]),
    ("sc_view", ["View this scorecard on the web", "Voir ce tableau de bord en ligne", "Ver este cuadro de mando en línea", "عرض بطاقة الأداء على الإنترنت"]),
    ("sc_csv", ["The overall, function and indicator scores of every operation are attached as a CSV file; each round's full scores (questions, organisation types) and the score history are on the web page.", "Les scores globaux, par fonction et par indicateur de chaque opération sont joints au format CSV ; les scores complets de chaque cycle (questions, types d'organisation) et l'historique sont sur la page web.", "Las puntuaciones globales, por función y por indicador de cada operación van adjuntas en un archivo CSV; las puntuaciones completas de cada ronda (preguntas, tipos de organización) y el historial están en la página web.", "الدرجات الإجمالية ودرجات الوظائف والمؤشرات لكل عملية مرفقة في ملف CSV؛ والدرجات الكاملة لكل جولة (الأسئلة وأنواع المنظمات) والسجل متاحة على صفحة الويب."]),
    ("dl_downloads", ["Downloads", "Téléchargements", "Descargas", "التنزيلات"]),
    ("dl_responses", ["responses of the round", "réponses du cycle", "respuestas de la ronda", "إجابات الجولة"]),
    ("dl_scores", ["all scores of the round", "tous les scores du cycle", "todas las puntuaciones de la ronda", "جميع درجات الجولة"]),
    ("dl_actions", ["action plan", "plan d'action", "plan de acción", "خطة العمل"]),
    ("dl_feedback", ["feedback log", "registre des retours", "registro de comentarios", "سجل الملاحظات"]),
    ("dl_hxl", ["CSV with HXL hashtags", "CSV avec hashtags HXL", "CSV con etiquetas HXL", "CSV مع وسوم HXL"]),
    ("dl_history", ["scores of every round of the cluster", "scores de tous les cycles du cluster", "puntuaciones de todas las rondas del clúster", "درجات جميع جولات المجموعة"]),
    ("dl_all_actions", ["action plans of every round", "plans d'action de tous les cycles", "planes de acción de todas las rondas", "خطط العمل لجميع الجولات"]),
    ("sc_volume", ["Feedback received per month, by category", "Retours reçus par mois, par catégorie", "Comentarios recibidos por mes, por categoría", "الملاحظات الواردة شهريًا حسب الفئة"]),
    ("sc_none", ["None.", "Aucun.", "Ninguno.", "لا يوجد."]),
    ("err_400_title", ["The request could not be read", "La demande n'a pas pu être lue", "No se pudo leer la solicitud", "تعذّرت قراءة الطلب"]),
    ("err_400_body", ["Something in the address or the form was not as expected. Go back, check what you entered and try again.", "Un élément de l'adresse ou du formulaire n'est pas celui attendu. Revenez en arrière, vérifiez votre saisie et réessayez.", "Algo en la dirección o en el formulario no es lo esperado. Vuelva atrás, revise lo que escribió e inténtelo de nuevo.", "هناك شيء في العنوان أو في النموذج ليس كما هو متوقع. ارجعوا وتحقّقوا مما أدخلتموه ثم حاولوا مرة أخرى."]),
    ("err_401_title", ["Please sign in", "Veuillez vous connecter", "Inicie sesión", "يرجى تسجيل الدخول"]),
    ("err_401_body", ["This page is for signed-in staff. Sign in and open it again.", "Cette page est réservée au personnel connecté. Connectez-vous puis ouvrez-la de nouveau.", "Esta página es para personal con sesión iniciada. Inicie sesión y ábrala de nuevo.", "هذه الصفحة مخصّصة للموظفين المسجّلين. سجّلوا الدخول ثم افتحوها مرة أخرى."]),
    ("err_403_title", ["Not allowed", "Accès non autorisé", "Acceso no permitido", "غير مسموح"]),
    ("err_403_body", ["You cannot do this from here. If you followed a form, reload the page and try again; if you think you should have access, ask your coordinator.", "Vous ne pouvez pas faire cela d'ici. Si vous avez envoyé un formulaire, rechargez la page et réessayez ; si vous pensez devoir y accéder, adressez-vous à votre coordinateur.", "No puede hacer esto desde aquí. Si envió un formulario, recargue la página e inténtelo de nuevo; si cree que debería tener acceso, consulte a su coordinador.", "لا يمكنكم القيام بذلك من هنا. إن كنتم قد أرسلتم نموذجًا، فأعيدوا تحميل الصفحة وحاولوا مرة أخرى؛ وإن كنتم تعتقدون أنه يحق لكم الوصول، فاسألوا منسّقكم."]),
    ("err_404_title", ["This link does not work", "Ce lien ne fonctionne pas", "Este enlace no funciona", "هذا الرابط لا يعمل"]),
    ("err_404_body", ["The page does not exist, or the link is incomplete or no longer valid. Check that you copied the whole link you were given.", "La page n'existe pas, ou le lien est incomplet ou n'est plus valable. Vérifiez que vous avez copié le lien en entier.", "La página no existe, o el enlace está incompleto o ya no es válido. Compruebe que copió el enlace completo que recibió.", "الصفحة غير موجودة، أو أن الرابط ناقص أو لم يعد صالحًا. تأكّدوا من أنكم نسختم الرابط الذي وصلكم كاملًا."]),
    ("err_405_title", ["This page cannot be used this way", "Cette page ne s'utilise pas ainsi", "Esta página no se usa de esta manera", "لا يمكن استخدام هذه الصفحة بهذه الطريقة"]),
    ("err_405_body", ["Open the page from its link instead of sending a form to it.", "Ouvrez la page depuis son lien au lieu d'y envoyer un formulaire.", "Abra la página desde su enlace en lugar de enviarle un formulario.", "افتحوا الصفحة من رابطها بدلًا من إرسال نموذج إليها."]),
    ("err_409_title", ["This was already done", "Cela a déjà été fait", "Esto ya se hizo", "تمّ ذلك من قبل"]),
    ("err_409_body", ["What you asked for conflicts with the current state, perhaps because someone else just changed it. Reload the page to see where things stand.", "Votre demande est incompatible avec l'état actuel, peut-être parce que quelqu'un vient de le modifier. Rechargez la page pour voir où en sont les choses.", "Lo que pidió no es compatible con el estado actual, quizá porque alguien acaba de cambiarlo. Recargue la página para ver la situación.", "ما طلبتموه يتعارض مع الحالة الحالية، ربما لأن شخصًا آخر غيّرها للتو. أعيدوا تحميل الصفحة لمعرفة الوضع."]),
    ("err_410_title", ["No longer available", "Plus disponible", "Ya no está disponible", "لم يعد متاحًا"]),
    ("err_410_body", ["This link or this survey has closed.", "Ce lien ou cette enquête est clôturé.", "Este enlace o esta encuesta se ha cerrado.", "أُغلق هذا الرابط أو هذا الاستبيان."]),
    ("err_413_title", ["Too much at once", "Trop de contenu à la fois", "Demasiado contenido a la vez", "محتوى كبير جدًا دفعة واحدة"]),
    ("err_413_body", ["What you sent is larger than this page accepts. Shorten it and send it again.", "Ce que vous avez envoyé dépasse ce que cette page accepte. Raccourcissez-le et renvoyez-le.", "Lo que envió supera lo que acepta esta página. Acórtelo y envíelo de nuevo.", "ما أرسلتموه أكبر مما تقبله هذه الصفحة. اختصروه ثم أرسلوه مرة أخرى."]),
    ("err_422_title", ["Some answers need attention", "Certaines réponses sont à revoir", "Algunas respuestas necesitan revisión", "بعض الإجابات تحتاج إلى مراجعة"]),
    ("err_422_body", ["Go back to the form, correct what is marked and send it again.", "Revenez au formulaire, corrigez ce qui est signalé et renvoyez-le.", "Vuelva al formulario, corrija lo señalado y envíelo de nuevo.", "ارجعوا إلى النموذج وصحّحوا ما هو مشار إليه ثم أرسلوه مرة أخرى."]),
    ("err_429_title", ["Please wait a moment", "Veuillez patienter un instant", "Espere un momento", "يرجى الانتظار قليلًا"]),
    ("err_429_body", ["Too many attempts came from this connection. Wait a minute and try again.", "Trop de tentatives sont venues de cette connexion. Patientez une minute et réessayez.", "Llegaron demasiados intentos desde esta conexión. Espere un minuto e inténtelo de nuevo.", "وصلت محاولات كثيرة جدًا من هذا الاتصال. انتظروا دقيقة ثم حاولوا مرة أخرى."]),
    ("err_500_title", ["Something went wrong on our side", "Un problème est survenu de notre côté", "Algo falló de nuestro lado", "حدث خطأ من جهتنا"]),
    ("err_500_body", ["Nothing was saved half-way. Please try again in a few minutes.", "Rien n'a été enregistré à moitié. Veuillez réessayer dans quelques minutes.", "No se guardó nada a medias. Inténtelo de nuevo en unos minutos.", "لم يُحفظ أي شيء جزئيًا. يرجى المحاولة مرة أخرى بعد بضع دقائق."]),
    ("err_home", ["Start page", "Page d'accueil", "Página de inicio", "الصفحة الرئيسية"]),
    ("survey_round", ["{round} · open until {closes}", "{round} · ouverte jusqu'au {closes}", "{round} · abierta hasta el {closes}", "{round} · مفتوح حتى {closes}"]),
    ("step_of", ["Section {i} of {n}", "Section {i} sur {n}", "Sección {i} de {n}", "القسم {i} من {n}"]),
    ("step_next", ["Next", "Suivant", "Siguiente", "التالي"]),
    ("step_back", ["Back", "Retour", "Atrás", "السابق"]),
    ("step_review", ["Check your answers", "Vérifiez vos réponses", "Revise sus respuestas", "راجعوا إجاباتكم"]),
    ("step_review_note", ["Nothing is sent until you press the button below. You can go back and change any answer.", "Rien n'est envoyé tant que vous n'avez pas appuyé sur le bouton ci-dessous. Vous pouvez revenir modifier chaque réponse.", "No se envía nada hasta que pulse el botón de abajo. Puede volver y cambiar cualquier respuesta.", "لن يُرسل أي شيء حتى تضغطوا على الزر أدناه. يمكنكم العودة وتغيير أي إجابة."]),
    ("step_change", ["Change", "Modifier", "Cambiar", "تغيير"]),
    ("step_unanswered", ["not answered", "sans réponse", "sin respuesta", "بلا إجابة"]),
    ("step_saved", ["Saved", "Enregistré", "Guardado", "تم الحفظ"]),
    ("step_saving", ["Saving your answers…", "Enregistrement de vos réponses…", "Guardando sus respuestas…", "جارٍ حفظ إجاباتكم…"]),
    ("step_save_failed", ["Your answers could not be saved just now (no connection?). They are still on this page: press the button again to retry.", "Vos réponses n'ont pas pu être enregistrées pour l'instant (pas de connexion ?). Elles sont toujours sur cette page : appuyez de nouveau sur le bouton pour réessayer.", "Sus respuestas no se pudieron guardar ahora (¿sin conexión?). Siguen en esta página: pulse el botón de nuevo para reintentar.", "تعذّر حفظ إجاباتكم الآن (ربما لا يوجد اتصال؟). ما زالت في هذه الصفحة: اضغطوا الزر مرة أخرى لإعادة المحاولة."]),
    ("errors_here", ["Answers to check:", "Réponses à revoir :", "Respuestas por revisar:", "إجابات تحتاج إلى مراجعة:"]),
    ("fb_about", ["Your message goes to the {operation} ({cluster}), the organizations that coordinate this response.", "Votre message est adressé au {operation} ({cluster}), les organisations qui coordonnent cette réponse.", "Su mensaje llega al {operation} ({cluster}), las organizaciones que coordinan esta respuesta.", "تصل رسالتكم إلى {operation} ({cluster})، وهي الجهات التي تنسّق هذه الاستجابة."]),
    ("fb_next_steps", ["What happens next: the team confirms it has seen your message within {high} hours for serious matters such as safety or abuse, within {medium} hours for complaints, and within {low} days for other messages. You get a reference number to follow it.", "Et ensuite : l'équipe confirme avoir pris connaissance de votre message sous {high} heures pour les sujets graves comme la sécurité ou les abus, sous {medium} heures pour les plaintes et sous {low} jours pour les autres messages. Vous recevez un numéro de référence pour le suivre.", "Qué pasa después: el equipo confirma que vio su mensaje en un plazo de {high} horas para asuntos graves como la seguridad o el abuso, de {medium} horas para las quejas y de {low} días para los demás mensajes. Recibirá un número de referencia para seguirlo.", "ما الذي يحدث بعد ذلك: يؤكد الفريق اطّلاعه على رسالتكم خلال {high} ساعة للمسائل الخطيرة مثل السلامة أو الإساءة، وخلال {medium} ساعة للشكاوى، وخلال {low} أيام للرسائل الأخرى. ستحصلون على رقم مرجعي لمتابعتها."]),
    ("fb_stale", ["This form was open for a long time, so it was not sent yet. Your message is still here: check it and press Send again.", "Ce formulaire est resté ouvert longtemps, il n'a donc pas encore été envoyé. Votre message est toujours là : vérifiez-le et appuyez de nouveau sur Envoyer.", "Este formulario estuvo abierto mucho tiempo, así que aún no se envió. Su mensaje sigue aquí: revíselo y pulse Enviar de nuevo.", "بقي هذا النموذج مفتوحًا مدة طويلة، لذلك لم يُرسل بعد. رسالتكم ما زالت هنا: راجعوها واضغطوا على «إرسال» مرة أخرى."]),
    ("fb_response", ["What the team answered", "La réponse de l'équipe", "Lo que respondió el equipo", "ردّ الفريق"]),
    ("fb_not_given", ["not given", "non précisé", "no indicado", "غير مذكور"]),
    ("ch_web", ["Web form", "Formulaire en ligne", "Formulario web", "النموذج الإلكتروني"]),
    ("ch_hotline", ["Hotline", "Ligne d'assistance", "Línea directa", "الخط الساخن"]),
    ("ch_helpdesk", ["Help desk", "Guichet d'accueil", "Mesa de ayuda", "مكتب المساعدة"]),
    ("ch_sms", ["SMS", "SMS", "SMS", "رسالة نصية"]),
    ("ch_box", ["Suggestion box", "Boîte à suggestions", "Buzón de sugerencias", "صندوق الاقتراحات"]),
    ("ch_email", ["Email", "E-mail", "Correo electrónico", "البريد الإلكتروني"]),
    ("sc_grid_alt", ["{title}: the same statuses and scores are in the table below", "{title} : les mêmes statuts et scores figurent dans le tableau ci-dessous", "{title}: los mismos estados y puntuaciones figuran en la tabla de abajo", "{title}: الحالات والدرجات نفسها واردة في الجدول أدناه"]),
    ("sc_chart_alt", ["Function scores with 95% intervals, {operation}: {scores}", "Scores des fonctions avec intervalles à 95 %, {operation} : {scores}", "Puntuaciones de las funciones con intervalos del 95 %, {operation}: {scores}", "درجات الوظائف مع فواصل ثقة 95%، {operation}: {scores}"]),
    ("sc_no_score", ["no score", "pas de score", "sin puntuación", "لا توجد درجة"]),
    ("sc_key_few", ["n=…: too few responses to give a status (at least {min} are needed); the score is shown for information", "n=… : trop peu de réponses pour attribuer un statut (il en faut au moins {min}) ; le score est donné à titre indicatif", "n=…: muy pocas respuestas para asignar un estado (se necesitan al menos {min}); la puntuación se muestra a título informativo", "n=…: عدد الإجابات أقل من أن يسمح بتحديد الحالة (يلزم {min} على الأقل)؛ والدرجة معروضة للاطلاع فقط"]),
    ("sc_key_none", ["–: no answers scored this function", "– : aucune réponse n'a noté cette fonction", "–: ninguna respuesta puntuó esta función", "–: لم تُقيّم أي إجابة هذه الوظيفة"]),
    ("st_good", ["good", "bon", "bueno", "جيد"]),
    ("st_satisfactory", ["satisfactory", "satisfaisant", "satisfactorio", "مرضٍ"]),
    ("st_unsatisfactory", ["unsatisfactory", "insatisfaisant", "insatisfactorio", "غير مرضٍ"]),
    ("st_weak", ["weak", "faible", "débil", "ضعيف"]),
    ("st_insufficient_data", ["insufficient data", "données insuffisantes", "datos insuficientes", "بيانات غير كافية"]),
];

/// Replaces `{name}` placeholders.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_every_language() {
        for (k, texts) in TEXTS {
            for (i, t) in texts.iter().enumerate() {
                assert!(!t.trim().is_empty(), "{k} in {}", LANGUAGES[i]);
            }
            // Placeholders are the same in every language.
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .match_indices('{')
                    .map(|(i, _)| s[i..].split('}').next().unwrap().to_string())
                    .collect();
                v.sort();
                v
            };
            for t in &texts[1..] {
                assert_eq!(holes(texts[0]), holes(t), "{k}");
            }
        }
        assert_eq!(t("xx", "submit"), "Submit my answers");
        assert_eq!(fill("a {x} b", &[("x", "1")]), "a 1 b");
    }

    #[test]
    fn dates_read_as_people_write_them() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 12, 14).unwrap();
        assert_eq!(date(d, "en"), "14 December 2026");
        assert_eq!(date(d, "fr"), "14 décembre 2026");
        assert_eq!(date(d, "es"), "14 de diciembre de 2026");
        assert_eq!(date(d, "ar"), "14 ديسمبر 2026");
        assert_eq!(month(d, "en"), "December 2026");
        assert_eq!(month(d, "es"), "diciembre de 2026");
        let t = d.and_hms_opt(6, 6, 24).unwrap();
        assert_eq!(date_time(t, "en"), "14 December 2026, 06:06 UTC");
    }
}
